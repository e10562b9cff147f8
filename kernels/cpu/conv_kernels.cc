// conv_kernels.cc - Conv2D and DepthwiseConv2dNative on the CPU through oneDNN's convolution
// primitive (float32), plus the shared window geometry of the convolution family.
//
// The input and output stay in the node's layout (NHWC or NCHW, described to oneDNN as nhwc or
// nchw); the filter is TensorFlow's HWIO (HWCM for depthwise), described to oneDNN with
// explicit strides as a grouped weights tensor, so no transpose is made by hand. A primitive
// is created the first time the kernel sees an (input, filter) shape and cached under a mutex.
// The primitive picks its preferred weights layout ("any"); the filter is reordered into it on
// every call. Caching the reordered filter would save that pass for Const filters, but a
// buffer pointer alone cannot tell a Const from a variable updated in place, so it is left for
// when the compiler marks constant inputs. Each execution gets its own scratchpad
// (scratchpad_mode::user): oneDNN's library-managed scratchpad is not safe to share between
// concurrent executions of one primitive.
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/onednn.h"

#include <array>
#include <cstring>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace conv_internal {

Layout LayoutFor(const std::string& data_format) {
  if (data_format == "NCHW") return {0, 2, 3, 1, true};
  return {0, 1, 2, 3, false};
}

WindowAttrs ReadWindowAttrs(const KernelConstruction& c) {
  WindowAttrs attrs;
  c.GetAttr("strides", &attrs.strides).IgnoreError();
  c.GetAttr("dilations", &attrs.dilations).IgnoreError();
  c.GetAttr("ksize", &attrs.ksize).IgnoreError();
  c.GetAttr("padding", &attrs.padding).IgnoreError();
  c.GetAttr("explicit_paddings", &attrs.explicit_paddings).IgnoreError();
  std::string data_format = "NHWC";
  c.GetAttr("data_format", &data_format).IgnoreError();
  attrs.layout = LayoutFor(data_format);
  return attrs;
}

absl::Status CheckWindowAttrs(const WindowAttrs& attrs, bool pooling) {
  auto check4 = [](const std::vector<int64_t>& v, const char* name) -> absl::Status {
    if (v.size() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " has ", v.size(), " entries, expected 4"));
    }
    for (int64_t x : v) {
      if (x < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, " is [", absl::StrJoin(v, ","), "], expected all entries >= 1"));
      }
    }
    return absl::OkStatus();
  };
  if (auto s = check4(attrs.strides, "strides"); !s.ok()) return s;
  if (auto s = check4(attrs.dilations, "dilations"); !s.ok()) return s;
  if (pooling) {
    if (auto s = check4(attrs.ksize, "ksize"); !s.ok()) return s;
  }
  if (attrs.padding == "EXPLICIT" && attrs.explicit_paddings.size() != 8) {
    return absl::InvalidArgumentError(absl::StrCat("explicit_paddings has ",
                                                   attrs.explicit_paddings.size(),
                                                   " entries, expected 8 for padding EXPLICIT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SpatialGeometry> ComputeSpatial(const WindowAttrs& attrs, int dim, int64_t in,
                                               int64_t k, int64_t dilation) {
  const int64_t stride = attrs.strides[dim];
  const int64_t effective_k = (k - 1) * dilation + 1;
  SpatialGeometry g;
  if (attrs.padding == "VALID") {
    g.out = (in - effective_k + stride) / stride;
  } else if (attrs.padding == "SAME") {
    g.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((g.out - 1) * stride + effective_k - in, 0);
    g.pad_before = total / 2;
    g.pad_after = total - g.pad_before;
  } else {
    g.pad_before = attrs.explicit_paddings[2 * dim];
    g.pad_after = attrs.explicit_paddings[2 * dim + 1];
    if (g.pad_before < 0 || g.pad_after < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("explicit_paddings is [", absl::StrJoin(attrs.explicit_paddings, ","),
                       "], expected non-negative entries"));
    }
    g.out = (in + g.pad_before + g.pad_after - effective_k + stride) / stride;
  }
  if (g.out < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "computed output size would be negative: ", g.out, " (input size ", in,
        ", effective window size ", effective_k, ", stride ", stride, ")"));
  }
  return g;
}

}  // namespace conv_internal

namespace {

using conv_internal::ComputeSpatial;
using onednn::CpuEngine;
using conv_internal::Layout;
using conv_internal::SpatialGeometry;
using onednn::ThreadStream;
using conv_internal::WindowAttrs;

// Conv2D (depthwise_ = false) and DepthwiseConv2dNative (depthwise_ = true), float32.
class ConvKernel : public OpKernel {
 public:
  ConvKernel(const KernelConstruction& c, bool depthwise)
      : OpKernel(c), attrs_(conv_internal::ReadWindowAttrs(c)), depthwise_(depthwise) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, false); !s.ok()) return s;
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    if (filter.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                       ", expected rank 4"));
    }
    const Layout& l = attrs_.layout;
    const int64_t batch = input.dim(l.n), in_h = input.dim(l.h), in_w = input.dim(l.w),
                  in_c = input.dim(l.c);
    const int64_t kh = filter.dim(0), kw = filter.dim(1), f_in = filter.dim(2),
                  f_out = filter.dim(3);
    if (filter.num_elements() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                       ", expected no zero dimensions"));
    }
    // groups, output channels per group, input channels per group.
    int64_t groups, group_out, group_in;
    if (depthwise_) {
      if (f_in != in_c) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (filter) has shape ", filter.shape().ToString(),
            ", expected dimension 2 to be ", in_c, " (the depth of input 0)"));
      }
      groups = in_c;
      group_out = f_out;
      group_in = 1;
    } else {
      if (in_c % f_in != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (filter) has shape ", filter.shape().ToString(),
            ", expected dimension 2 to divide ", in_c, " (the depth of input 0)"));
      }
      groups = in_c / f_in;
      if (groups == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 0 has shape ", input.shape().ToString(), ", expected a depth of at least ",
            f_in, " (dimension 2 of the filter)"));
      }
      if (f_out % groups != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (filter) has shape ", filter.shape().ToString(),
            ", expected dimension 3 to be a multiple of the number of groups ", groups));
      }
      group_out = f_out / groups;
      group_in = f_in;
    }
    const int64_t out_c = groups * group_out;
    absl::StatusOr<SpatialGeometry> gh =
        ComputeSpatial(attrs_, l.h, in_h, kh, attrs_.dilations[l.h]);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw =
        ComputeSpatial(attrs_, l.w, in_w, kw, attrs_.dilations[l.w]);
    if (!gw.ok()) return gw.status();
    std::vector<int64_t> out_dims(4);
    out_dims[l.n] = batch;
    out_dims[l.h] = gh->out;
    out_dims[l.w] = gw->out;
    out_dims[l.c] = out_c;
    absl::StatusOr<Tensor*> output =
        ctx->allocate_output(0, DT_FLOAT, TensorShape(std::move(out_dims)));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();
    if (in_c == 0) {
      std::memset((*output)->raw_data(), 0, (*output)->TotalBytes());
      return absl::OkStatus();
    }

    const int team = onednn::UseIntraOpThreads(
        ctx->device(), 2.0 * static_cast<double>((*output)->num_elements()) * kh * kw * group_in);
    const ShapeKey key{batch, in_h, in_w, in_c, kh, kw, f_in, f_out, team};
    absl::StatusOr<Primitive> p = GetPrimitive(key, groups, group_out, group_in, *gh, *gw);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    absl::StatusOr<Tensor> weights = onednn::AllocateScratch(
        ctx, p->reorder_weights ? p->weights.get_size() : 0);
    if (!weights.ok()) return weights.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      dnnl::memory src_mem(p->src, engine, input.raw_data());
      dnnl::memory dst_mem(p->dst, engine, (*output)->raw_data());
      dnnl::memory user_w_mem(p->user_weights, engine, filter.raw_data());
      dnnl::memory w_mem = user_w_mem;
      if (p->reorder_weights) {
        w_mem = dnnl::memory(p->weights, engine, weights->raw_data());
        p->reorder.execute(stream, user_w_mem, w_mem);
      }
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      p->conv.execute(stream, {{DNNL_ARG_SRC, src_mem},
                               {DNNL_ARG_WEIGHTS, w_mem},
                               {DNNL_ARG_DST, dst_mem},
                               {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN convolution failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  // A compiled primitive and the memory descriptors it was created for (handles; copies share).
  struct Primitive {
    dnnl::convolution_forward conv;
    dnnl::memory::desc src, dst, user_weights, weights, scratchpad;
    size_t scratchpad_bytes = 0;
    bool reorder_weights = false;
    dnnl::reorder reorder;
  };
  using ShapeKey = std::array<int64_t, 9>;  // input N, H, W, C, filter dims, team size

  absl::StatusOr<Primitive> GetPrimitive(const ShapeKey& key, int64_t groups, int64_t group_out,
                                         int64_t group_in, const SpatialGeometry& gh,
                                         const SpatialGeometry& gw) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const Layout& l = attrs_.layout;
    const int64_t batch = key[0], in_h = key[1], in_w = key[2], in_c = key[3];
    const int64_t kh = key[4], kw = key[5];
    const int64_t out_c = groups * group_out;
    const tag data_tag = l.nchw ? tag::nchw : tag::nhwc;
    Primitive p;
    try {
      p.src = dnnl::memory::desc({batch, in_c, in_h, in_w}, dt::f32, data_tag);
      p.dst = dnnl::memory::desc({batch, out_c, gh.out, gw.out}, dt::f32, data_tag);
      // TensorFlow's filter is [kh, kw, group_in, out_c] row-major with output channel
      // g * group_out + o (a depthwise [kh, kw, C, M] filter is the same with group_in 1);
      // element (g, o, i, h, w) sits at ((h * kw + w) * group_in + i) * out_c + g * group_out + o.
      const int64_t w_stride = group_in * out_c;
      if (groups == 1) {
        p.user_weights = dnnl::memory::desc({out_c, group_in, kh, kw}, dt::f32,
                                            {1, out_c, kw * w_stride, w_stride});
      } else {
        p.user_weights = dnnl::memory::desc({groups, group_out, group_in, kh, kw}, dt::f32,
                                            {group_out, 1, out_c, kw * w_stride, w_stride});
      }
      dnnl::memory::desc any_weights(p.user_weights.dims(), dt::f32, tag::any);
      const dnnl::memory::dims strides{attrs_.strides[l.h], attrs_.strides[l.w]};
      // oneDNN counts dilation from 0 (no dilation), TensorFlow from 1.
      const dnnl::memory::dims dilates{attrs_.dilations[l.h] - 1, attrs_.dilations[l.w] - 1};
      const dnnl::memory::dims pad_l{gh.pad_before, gw.pad_before};
      const dnnl::memory::dims pad_r{gh.pad_after, gw.pad_after};
      dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, p.src,
          any_weights, p.dst, strides, dilates, pad_l, pad_r);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::convolution_forward::primitive_desc pd(desc, attr, CpuEngine());
      p.weights = pd.weights_desc();
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.conv = dnnl::convolution_forward(pd);
      p.reorder_weights = p.weights != p.user_weights;
      if (p.reorder_weights) {
        p.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            CpuEngine(), p.user_weights, CpuEngine(), p.weights));
      }
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat(
          "oneDNN convolution for input (N,H,W,C) [",
          absl::StrJoin(key.begin(), key.begin() + 4, ","),
          "] and filter [", absl::StrJoin(key.begin() + 4, key.begin() + 8, ","),
          "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const WindowAttrs attrs_;
  const bool depthwise_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

class Conv2DKernel : public ConvKernel {
 public:
  explicit Conv2DKernel(const KernelConstruction& c) : ConvKernel(c, false) {}
};

class DepthwiseConv2dNativeKernel : public ConvKernel {
 public:
  explicit DepthwiseConv2dNativeKernel(const KernelConstruction& c) : ConvKernel(c, true) {}
};

}  // namespace

void RegisterCpuConvKernels(KernelRegistry& registry) {
  registry.Register({"Conv2D", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<Conv2DKernel>()});
  registry.Register({"DepthwiseConv2dNative", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<DepthwiseConv2dNativeKernel>()});
  RegisterCpuPoolKernels(registry);
  RegisterCpuNormalizationKernels(registry);
  RegisterCpuActivationKernels(registry);
}

}  // namespace weir
