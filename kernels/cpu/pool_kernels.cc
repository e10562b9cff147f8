// pool_kernels.cc - MaxPool and AvgPool on the CPU through oneDNN's pooling primitive
// (float32).
//
// TensorFlow's semantics map directly: MaxPool ignores padded positions (pooling_max), and
// AvgPool divides by the number of valid, non-padded elements in each window
// (pooling_avg_exclude_padding). The input and output stay in the node's layout. Primitives
// are cached per input shape under a mutex; each execution gets its own scratchpad.
#include <array>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

using conv_internal::ComputeSpatial;
using onednn::CpuEngine;
using conv_internal::Layout;
using conv_internal::SpatialGeometry;
using onednn::ThreadStream;
using conv_internal::WindowAttrs;

class PoolKernel : public OpKernel {
 public:
  PoolKernel(const KernelConstruction& c, dnnl::algorithm algorithm)
      : OpKernel(c), attrs_(conv_internal::ReadWindowAttrs(c)), algorithm_(algorithm) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, true); !s.ok()) return s;
    const Layout& l = attrs_.layout;
    const std::vector<int64_t>& ksize = attrs_.ksize;
    const std::vector<int64_t>& strides = attrs_.strides;
    if (ksize[l.n] != 1 || strides[l.n] != 1 || ksize[l.c] != 1 || strides[l.c] != 1) {
      return absl::UnimplementedError(absl::StrCat(
          "pooling over the batch or depth dimension is not supported (ksize [",
          absl::StrJoin(ksize, ","), "], strides [", absl::StrJoin(strides, ","), "])"));
    }
    const Tensor& input = ctx->input(0);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    const int64_t batch = input.dim(l.n), in_h = input.dim(l.h), in_w = input.dim(l.w),
                  channels = input.dim(l.c);
    absl::StatusOr<SpatialGeometry> gh = ComputeSpatial(attrs_, l.h, in_h, ksize[l.h], 1);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw = ComputeSpatial(attrs_, l.w, in_w, ksize[l.w], 1);
    if (!gw.ok()) return gw.status();
    if (gh->pad_before >= ksize[l.h] || gh->pad_after >= ksize[l.h] ||
        gw->pad_before >= ksize[l.w] || gw->pad_after >= ksize[l.w]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "explicit_paddings is [", absl::StrJoin(attrs_.explicit_paddings, ","),
          "], expected paddings smaller than the window size [", ksize[l.h], ",", ksize[l.w],
          "]"));
    }
    std::vector<int64_t> out_dims(4);
    out_dims[l.n] = batch;
    out_dims[l.h] = gh->out;
    out_dims[l.w] = gw->out;
    out_dims[l.c] = channels;
    absl::StatusOr<Tensor*> output =
        ctx->allocate_output(0, DT_FLOAT, TensorShape(std::move(out_dims)));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();

    // A pooling window costs about one operation per input element it covers.
    const int team = onednn::UseIntraOpThreads(
        ctx->device(), static_cast<double>((*output)->num_elements()) * ksize[l.h] * ksize[l.w]);
    const ShapeKey key{batch, in_h, in_w, channels, team};
    absl::StatusOr<Primitive> p = GetPrimitive(key, *gh, *gw);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      dnnl::memory src_mem(p->src, engine, input.raw_data());
      dnnl::memory dst_mem(p->dst, engine, (*output)->raw_data());
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      p->pool.execute(stream, {{DNNL_ARG_SRC, src_mem},
                               {DNNL_ARG_DST, dst_mem},
                               {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN pooling failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::pooling_forward pool;
    dnnl::memory::desc src, dst, scratchpad;
    size_t scratchpad_bytes = 0;
  };
  using ShapeKey = std::array<int64_t, 5>;  // batch, height, width, channels, team size

  absl::StatusOr<Primitive> GetPrimitive(const ShapeKey& key, const SpatialGeometry& gh,
                                         const SpatialGeometry& gw) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const Layout& l = attrs_.layout;
    const tag data_tag = l.nchw ? tag::nchw : tag::nhwc;
    Primitive p;
    try {
      p.src = dnnl::memory::desc({key[0], key[3], key[1], key[2]}, dt::f32, data_tag);
      p.dst = dnnl::memory::desc({key[0], key[3], gh.out, gw.out}, dt::f32, data_tag);
      dnnl::pooling_forward::desc desc(
          dnnl::prop_kind::forward_inference, algorithm_, p.src, p.dst,
          {attrs_.strides[l.h], attrs_.strides[l.w]}, {attrs_.ksize[l.h], attrs_.ksize[l.w]},
          {gh.pad_before, gw.pad_before}, {gh.pad_after, gw.pad_after});
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::pooling_forward::primitive_desc pd(desc, attr, CpuEngine());
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.pool = dnnl::pooling_forward(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN pooling for input [",
                                              absl::StrJoin(key.begin(), key.begin() + 4, ","),
                                              "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const WindowAttrs attrs_;
  const dnnl::algorithm algorithm_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

class MaxPoolKernel : public PoolKernel {
 public:
  explicit MaxPoolKernel(const KernelConstruction& c)
      : PoolKernel(c, dnnl::algorithm::pooling_max) {}
};

class AvgPoolKernel : public PoolKernel {
 public:
  explicit AvgPoolKernel(const KernelConstruction& c)
      : PoolKernel(c, dnnl::algorithm::pooling_avg_exclude_padding) {}
};

}  // namespace

void RegisterCpuPoolKernels(KernelRegistry& registry) {
  registry.Register({"MaxPool", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<MaxPoolKernel>()});
  registry.Register({"AvgPool", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<AvgPoolKernel>()});
}

}  // namespace weir
