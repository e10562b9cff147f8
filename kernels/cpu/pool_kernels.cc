// pool_kernels.cc - MaxPool and AvgPool on the CPU through oneDNN's pooling primitive
// (float32).
//
// TensorFlow's semantics map directly: MaxPool ignores padded positions (pooling_max), and
// AvgPool divides by the number of valid, non-padded elements in each window
// (pooling_avg_exclude_padding). The input and output stay in the node's layout. Primitives
// are cached per input shape; each execution gets its own scratchpad (onednn_primitive.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/onednn_conv.h"
#include "kernels/cpu/onednn_primitive.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

using conv_internal::Layout;
using conv_internal::PoolKey;
using conv_internal::WindowAttrs;
using onednn::Bind;

class PoolKernel : public OpKernel {
 public:
  PoolKernel(const KernelConstruction& c, dnnl::algorithm algorithm)
      : OpKernel(c), attrs_(conv_internal::ReadWindowAttrs(c)), algorithm_(algorithm) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckPoolWindow(attrs_); !s.ok()) return s;
    const Layout& l = attrs_.layout;
    const Tensor& input = ctx->input(0);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    const int64_t batch = input.dim(l.n), in_h = input.dim(l.h), in_w = input.dim(l.w),
                  channels = input.dim(l.c);
    auto geometry = conv_internal::ComputePoolGeometry(attrs_, in_h, in_w);
    if (!geometry.ok()) return geometry.status();
    const conv_internal::SpatialGeometry& gh = geometry->first;
    const conv_internal::SpatialGeometry& gw = geometry->second;
    absl::StatusOr<Tensor*> output = ctx->allocate_output(
        0, DT_FLOAT, TensorShape(conv_internal::DataDims(l, batch, gh.out, gw.out, channels)));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();

    // A pooling window costs about one operation per input element it covers.
    const int team = onednn::UseIntraOpThreads(
        ctx->device(),
        static_cast<double>((*output)->num_elements()) * attrs_.ksize[l.h] * attrs_.ksize[l.w]);
    const PoolKey key{batch, in_h, in_w, channels, team};
    absl::StatusOr<Primitive> p = cache_.Get(
        key, [&] { return CreatePrimitive(key, gh, gw); },
        [&] { return conv_internal::DescribePoolKey("oneDNN pooling", key); });
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateFor(ctx, p->scratchpad);
    if (!scratch.ok()) return scratch.status();
    return onednn::RunOnThreadStream("oneDNN pooling", [&](dnnl::stream& stream) {
      p->pool.execute(stream, {{DNNL_ARG_SRC, Bind(p->src, input.raw_data())},
                               {DNNL_ARG_DST, Bind(p->dst, (*output)->raw_data())},
                               {DNNL_ARG_SCRATCHPAD, Bind(p->scratchpad, scratch->raw_data())}});
    });
  }

 private:
  struct Primitive {
    dnnl::pooling_forward pool;
    dnnl::memory::desc src, dst, scratchpad;
  };

  Primitive CreatePrimitive(const PoolKey& key, const conv_internal::SpatialGeometry& gh,
                            const conv_internal::SpatialGeometry& gw) const {
    const conv_internal::PoolDescs d = conv_internal::DescribePool(attrs_, key, gh, gw);
    Primitive p;
    p.src = d.src;
    p.dst = d.dst;
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm_, d.src,
                                     d.dst, d.strides, d.kernel, d.pad_l, d.pad_r);
    dnnl::pooling_forward::primitive_desc pd(desc, onednn::UserScratchpadAttr(),
                                             onednn::CpuEngine());
    p.scratchpad = pd.scratchpad_desc();
    p.pool = dnnl::pooling_forward(pd);
    return p;
  }

  const WindowAttrs attrs_;
  const dnnl::algorithm algorithm_;
  onednn::PrimitiveCache<PoolKey, Primitive> cache_;
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
