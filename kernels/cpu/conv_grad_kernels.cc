// conv_grad_kernels.cc - The convolution-family backprop ops on the CPU through oneDNN
// (float32): Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput on
// convolution_backward_data, Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter on
// convolution_backward_weights, MaxPoolGrad and AvgPoolGrad on pooling_backward.
//
// Data tensors stay in the node's layout (nhwc or nchw to oneDNN); filters are TensorFlow's
// HWIO / HWCM described with explicit strides as (grouped) weights, exactly as the forward
// kernel in conv_kernels.cc does (onednn_conv.h), so no transpose is made by hand: the filter
// is reordered into the primitive's preferred layout for backward data, and the filter gradient
// is reordered back out of it for backward weights. Primitives (with the forward primitive
// descriptor they need as a hint) are created the first time a kernel sees a shape and cached;
// every execution gets its own scratchpad.
//
// MaxPoolGrad recomputes the forward max pooling on orig_input to get oneDNN's workspace (the
// argmax of each window) and routes grad through it; orig_output is not read. Like TensorFlow,
// padded positions never win a window, and AvgPoolGrad spreads each gradient over the valid,
// non-padded elements of its window.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/onednn_conv.h"
#include "kernels/cpu/onednn_primitive.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

using conv_internal::ConvDescs;
using conv_internal::ConvKey;
using conv_internal::ConvShape;
using conv_internal::ConvWeights;
using conv_internal::Layout;
using conv_internal::PoolKey;
using conv_internal::SpatialGeometry;
using conv_internal::WindowAttrs;
using onednn::Bind;
using Dims4 = std::array<int64_t, 4>;

// The value of a sizes input (input_sizes, filter_sizes, orig_input_shape): int32 or int64,
// four non-negative entries.
absl::StatusOr<Dims4> ReadSizes(const Tensor& t, int index, const char* name) {
  if (t.rank() != 1 || t.num_elements() != 4 ||
      (t.dtype() != DT_INT32 && t.dtype() != DT_INT64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", index, " (", name, ") has shape ", t.shape().ToString(), " and dtype ",
        DataTypeString(t.dtype()), ", expected an int32 vector of 4 entries"));
  }
  Dims4 d;
  for (int i = 0; i < 4; ++i) {
    d[i] = t.dtype() == DT_INT32 ? t.data<int32_t>()[i] : t.data<int64_t>()[i];
    if (d[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("input ", index, " (", name, ") is [",
                                                     absl::StrJoin(d.begin(), d.begin() + i + 1,
                                                                   ","),
                                                     "...], expected non-negative entries"));
    }
  }
  return d;
}

absl::Status CheckRank4(const Tensor& t, int index, const char* name) {
  if (t.rank() == 4) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("input ", index, " (", name, ") has shape ",
                                                 t.shape().ToString(), ", expected rank 4"));
}

std::string DimsString(const Dims4& d) { return absl::StrCat("[", absl::StrJoin(d, ","), "]"); }

// Checks that out_backprop (input `index`) has the forward output's shape.
absl::Status CheckGradShape(const Tensor& grad, int index, const Dims4& expected) {
  for (int i = 0; i < 4; ++i) {
    if (grad.dim(i) != expected[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", index, " (out_backprop) has shape ", grad.shape().ToString(), ", expected ",
          DimsString(expected), " (the forward output's shape)"));
    }
  }
  return absl::OkStatus();
}

void ZeroFill(Tensor* t) {
  if (t->num_elements() > 0) std::memset(t->raw_data(), 0, t->TotalBytes());
}

// ---------------------------------------------------------------------------------------------
// Convolution backprop: Conv2DBackprop{Input,Filter}, DepthwiseConv2dNativeBackprop{Input,Filter}.

class ConvBackpropKernel : public OpKernel {
 public:
  ConvBackpropKernel(const KernelConstruction& c, bool depthwise, bool wrt_filter)
      : OpKernel(c),
        attrs_(conv_internal::ReadWindowAttrs(c)),
        depthwise_(depthwise),
        wrt_filter_(wrt_filter) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, false); !s.ok()) return s;
    const Layout& l = attrs_.layout;
    // Shapes of the forward op's input (data layout) and filter.
    Dims4 in_dims, f_dims;
    const Tensor& grad = ctx->input(2);
    if (auto s = CheckRank4(grad, 2, "out_backprop"); !s.ok()) return s;
    if (wrt_filter_) {
      const Tensor& input = ctx->input(0);
      if (auto s = CheckRank4(input, 0, "input"); !s.ok()) return s;
      for (int i = 0; i < 4; ++i) in_dims[i] = input.dim(i);
      absl::StatusOr<Dims4> sizes = ReadSizes(ctx->input(1), 1, "filter_sizes");
      if (!sizes.ok()) return sizes.status();
      f_dims = *sizes;
    } else {
      absl::StatusOr<Dims4> sizes = ReadSizes(ctx->input(0), 0, "input_sizes");
      if (!sizes.ok()) return sizes.status();
      in_dims = *sizes;
      const Tensor& filter = ctx->input(1);
      if (auto s = CheckRank4(filter, 1, "filter"); !s.ok()) return s;
      for (int i = 0; i < 4; ++i) f_dims[i] = filter.dim(i);
    }
    const int64_t batch = in_dims[l.n], in_h = in_dims[l.h], in_w = in_dims[l.w],
                  in_c = in_dims[l.c];
    const int64_t kh = f_dims[0], kw = f_dims[1], f_in = f_dims[2], f_out = f_dims[3];
    const char* filter_name = wrt_filter_ ? "filter_sizes" : "filter";
    const int filter_index = 1;
    int64_t groups, group_out, group_in;
    if (depthwise_) {
      if (f_in != in_c) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", filter_index, " (", filter_name, ") gives filter shape ",
            DimsString(f_dims), ", expected dimension 2 to be ", in_c,
            " (the depth of the input ", DimsString(in_dims), ")"));
      }
      groups = in_c;
      group_out = f_out;
      group_in = 1;
    } else {
      if (f_in == 0 || in_c % f_in != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", filter_index, " (", filter_name, ") gives filter shape ",
            DimsString(f_dims), ", expected dimension 2 to divide ", in_c,
            " (the depth of the input ", DimsString(in_dims), ")"));
      }
      groups = in_c / f_in;
      if (groups > 0 && f_out % groups != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", filter_index, " (", filter_name, ") gives filter shape ",
            DimsString(f_dims), ", expected dimension 3 to be a multiple of the number of ",
            "groups ", groups));
      }
      group_out = groups > 0 ? f_out / groups : 0;
      group_in = f_in;
    }
    if (kh == 0 || kw == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input ", filter_index, " (", filter_name,
                                                     ") gives filter shape ", DimsString(f_dims),
                                                     ", expected non-zero spatial dimensions"));
    }
    ConvShape shape;
    shape.batch = batch;
    shape.in_h = in_h;
    shape.in_w = in_w;
    shape.in_c = in_c;
    shape.kh = kh;
    shape.kw = kw;
    shape.groups = groups;
    shape.group_out = group_out;
    shape.group_in = group_in;
    if (auto s = conv_internal::ComputeConvGeometry(attrs_, shape); !s.ok()) return s;
    Dims4 out_dims;
    out_dims[l.n] = batch;
    out_dims[l.h] = shape.h.out;
    out_dims[l.w] = shape.w.out;
    out_dims[l.c] = groups * group_out;
    if (auto s = CheckGradShape(grad, 2, out_dims); !s.ok()) return s;

    const Dims4& result_dims = wrt_filter_ ? f_dims : in_dims;
    absl::StatusOr<Tensor*> output = ctx->allocate_output(
        0, DT_FLOAT, TensorShape(std::vector<int64_t>(result_dims.begin(), result_dims.end())));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();
    if (grad.num_elements() == 0 || in_c == 0) {
      ZeroFill(*output);
      return absl::OkStatus();
    }

    const int team = onednn::UseIntraOpThreads(ctx->device());
    const ConvKey key{batch, in_h, in_w, in_c, kh, kw, f_in, f_out, team};
    absl::StatusOr<Primitive> p = cache_.Get(
        key, [&] { return CreatePrimitive(shape); },
        [&] { return conv_internal::DescribeConvKey("oneDNN convolution backprop", key); });
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateFor(ctx, p->scratchpad);
    if (!scratch.ok()) return scratch.status();
    const ConvWeights& w = p->weights;
    absl::StatusOr<Tensor> weights =
        onednn::AllocateScratch(ctx, w.reordered() ? w.primitive.get_size() : 0);
    if (!weights.ok()) return weights.status();
    return onednn::RunOnThreadStream("oneDNN convolution backprop", [&](dnnl::stream& stream) {
      dnnl::memory s_mem = Bind(p->scratchpad, scratch->raw_data());
      dnnl::memory diff_dst = Bind(p->dst, grad.raw_data());
      if (wrt_filter_) {
        // The gradient comes out in the primitive's layout and is reordered into TensorFlow's.
        dnnl::memory user_w = Bind(w.user, (*output)->raw_data());
        dnnl::memory diff_w = w.reordered() ? Bind(w.primitive, weights->raw_data()) : user_w;
        p->backward_weights.execute(stream, {{DNNL_ARG_SRC, Bind(p->src, ctx->input(0).raw_data())},
                                             {DNNL_ARG_DIFF_DST, diff_dst},
                                             {DNNL_ARG_DIFF_WEIGHTS, diff_w},
                                             {DNNL_ARG_SCRATCHPAD, s_mem}});
        if (w.reordered()) w.reorder.execute(stream, diff_w, user_w);
      } else {
        p->backward_data.execute(
            stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                     {DNNL_ARG_WEIGHTS,
                      w.Bind(stream, ctx->input(1).raw_data(), weights->raw_data())},
                     {DNNL_ARG_DIFF_SRC, Bind(p->src, (*output)->raw_data())},
                     {DNNL_ARG_SCRATCHPAD, s_mem}});
      }
    });
  }

 private:
  struct Primitive {
    dnnl::convolution_backward_data backward_data;
    dnnl::convolution_backward_weights backward_weights;
    dnnl::memory::desc src, dst, scratchpad;
    // The filter (backward data) or the filter gradient (backward weights); for the gradient
    // `weights.reorder` runs from the primitive's layout to TensorFlow's.
    ConvWeights weights;
  };

  Primitive CreatePrimitive(const ConvShape& shape) const {
    const ConvDescs d = conv_internal::DescribeConv(attrs_, shape);
    const dnnl::engine& engine = onednn::CpuEngine();
    const dnnl::primitive_attr attr = onednn::UserScratchpadAttr();
    Primitive p;
    p.src = d.src;
    p.dst = d.dst;
    // The backward primitives need the forward primitive descriptor as a hint.
    dnnl::convolution_forward::desc fwd_desc(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.src,
        d.any_weights, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r);
    dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, engine);
    if (wrt_filter_) {
      dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src,
                                                    d.any_weights, d.dst, d.strides, d.dilates,
                                                    d.pad_l, d.pad_r);
      dnnl::convolution_backward_weights::primitive_desc pd(desc, attr, engine, fwd_pd);
      p.scratchpad = pd.scratchpad_desc();
      p.backward_weights = dnnl::convolution_backward_weights(pd);
      p.weights.user = d.user_weights;
      p.weights.primitive = pd.diff_weights_desc();
      if (p.weights.reordered()) {
        p.weights.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine, p.weights.primitive, engine, p.weights.user));
      }
    } else {
      dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src,
                                                 d.any_weights, d.dst, d.strides, d.dilates,
                                                 d.pad_l, d.pad_r);
      dnnl::convolution_backward_data::primitive_desc pd(desc, attr, engine, fwd_pd);
      p.scratchpad = pd.scratchpad_desc();
      p.backward_data = dnnl::convolution_backward_data(pd);
      p.weights = conv_internal::MakeConvWeights(d.user_weights, pd.weights_desc(),
                                                 /*const_filter=*/nullptr);
    }
    return p;
  }

  const WindowAttrs attrs_;
  const bool depthwise_;
  const bool wrt_filter_;
  onednn::PrimitiveCache<ConvKey, Primitive> cache_;
};

class Conv2DBackpropInputKernel : public ConvBackpropKernel {
 public:
  explicit Conv2DBackpropInputKernel(const KernelConstruction& c)
      : ConvBackpropKernel(c, false, false) {}
};
class Conv2DBackpropFilterKernel : public ConvBackpropKernel {
 public:
  explicit Conv2DBackpropFilterKernel(const KernelConstruction& c)
      : ConvBackpropKernel(c, false, true) {}
};
class DepthwiseBackpropInputKernel : public ConvBackpropKernel {
 public:
  explicit DepthwiseBackpropInputKernel(const KernelConstruction& c)
      : ConvBackpropKernel(c, true, false) {}
};
class DepthwiseBackpropFilterKernel : public ConvBackpropKernel {
 public:
  explicit DepthwiseBackpropFilterKernel(const KernelConstruction& c)
      : ConvBackpropKernel(c, true, true) {}
};

// ---------------------------------------------------------------------------------------------
// Pooling backprop: MaxPoolGrad (orig_input, orig_output, grad) and AvgPoolGrad
// (orig_input_shape, grad).

class PoolGradKernel : public OpKernel {
 public:
  PoolGradKernel(const KernelConstruction& c, bool max)
      : OpKernel(c), attrs_(conv_internal::ReadWindowAttrs(c)), max_(max) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckPoolWindow(attrs_); !s.ok()) return s;
    const Layout& l = attrs_.layout;
    Dims4 in_dims;
    const int grad_index = max_ ? 2 : 1;
    if (max_) {
      const Tensor& input = ctx->input(0);
      if (auto s = CheckRank4(input, 0, "orig_input"); !s.ok()) return s;
      for (int i = 0; i < 4; ++i) in_dims[i] = input.dim(i);
    } else {
      absl::StatusOr<Dims4> sizes = ReadSizes(ctx->input(0), 0, "orig_input_shape");
      if (!sizes.ok()) return sizes.status();
      in_dims = *sizes;
    }
    const Tensor& grad = ctx->input(grad_index);
    if (auto s = CheckRank4(grad, grad_index, "grad"); !s.ok()) return s;
    auto geometry = conv_internal::ComputePoolGeometry(attrs_, in_dims[l.h], in_dims[l.w]);
    if (!geometry.ok()) return geometry.status();
    const SpatialGeometry& gh = geometry->first;
    const SpatialGeometry& gw = geometry->second;
    Dims4 out_dims = in_dims;
    out_dims[l.h] = gh.out;
    out_dims[l.w] = gw.out;
    if (auto s = CheckGradShape(grad, grad_index, out_dims); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", grad_index, " (grad) has shape ", grad.shape().ToString(), ", expected ",
          DimsString(out_dims), " (the forward output's shape)"));
    }
    absl::StatusOr<Tensor*> output = ctx->allocate_output(
        0, DT_FLOAT, TensorShape(std::vector<int64_t>(in_dims.begin(), in_dims.end())));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();
    if (grad.num_elements() == 0) {
      ZeroFill(*output);
      return absl::OkStatus();
    }

    const int team = onednn::UseIntraOpThreads(ctx->device());
    const PoolKey key{in_dims[l.n], in_dims[l.h], in_dims[l.w], in_dims[l.c], team};
    absl::StatusOr<Primitive> p = cache_.Get(
        key, [&] { return CreatePrimitive(key, gh, gw); },
        [&] { return conv_internal::DescribePoolKey("oneDNN pooling backprop", key); });
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateFor(ctx, p->scratchpad);
    if (!scratch.ok()) return scratch.status();
    // Max pooling: the recomputed forward output and the workspace it leaves.
    absl::StatusOr<Tensor> fwd_dst = onednn::AllocateScratch(ctx, max_ ? p->dst.get_size() : 0);
    if (!fwd_dst.ok()) return fwd_dst.status();
    absl::StatusOr<Tensor> workspace = onednn::AllocateFor(ctx, p->workspace);
    if (!workspace.ok()) return workspace.status();
    return onednn::RunOnThreadStream("oneDNN pooling backprop", [&](dnnl::stream& stream) {
      dnnl::memory s_mem = Bind(p->scratchpad, scratch->raw_data());
      dnnl::memory diff_dst = Bind(p->dst, grad.raw_data());
      dnnl::memory diff_src = Bind(p->src, (*output)->raw_data());
      if (max_) {
        dnnl::memory ws = Bind(p->workspace, workspace->raw_data());
        p->forward.execute(stream, {{DNNL_ARG_SRC, Bind(p->src, ctx->input(0).raw_data())},
                                    {DNNL_ARG_DST, Bind(p->dst, fwd_dst->raw_data())},
                                    {DNNL_ARG_WORKSPACE, ws},
                                    {DNNL_ARG_SCRATCHPAD, s_mem}});
        p->backward.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                     {DNNL_ARG_DIFF_SRC, diff_src},
                                     {DNNL_ARG_WORKSPACE, ws},
                                     {DNNL_ARG_SCRATCHPAD, s_mem}});
      } else {
        p->backward.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                     {DNNL_ARG_DIFF_SRC, diff_src},
                                     {DNNL_ARG_SCRATCHPAD, s_mem}});
      }
    });
  }

 private:
  struct Primitive {
    dnnl::pooling_forward forward;  // max pooling only
    dnnl::pooling_backward backward;
    dnnl::memory::desc src, dst, workspace;  // workspace: max pooling only
    dnnl::memory::desc scratchpad;           // the larger of the forward and backward ones
  };

  Primitive CreatePrimitive(const PoolKey& key, const SpatialGeometry& gh,
                            const SpatialGeometry& gw) const {
    const conv_internal::PoolDescs d = conv_internal::DescribePool(attrs_, key, gh, gw);
    const dnnl::engine& engine = onednn::CpuEngine();
    const dnnl::primitive_attr attr = onednn::UserScratchpadAttr();
    const dnnl::algorithm algorithm =
        max_ ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    Primitive p;
    p.src = d.src;
    p.dst = d.dst;
    dnnl::pooling_forward::desc fwd_desc(dnnl::prop_kind::forward_training, algorithm, d.src,
                                         d.dst, d.strides, d.kernel, d.pad_l, d.pad_r);
    dnnl::pooling_forward::primitive_desc fwd_pd(fwd_desc, attr, engine);
    dnnl::pooling_backward::desc desc(algorithm, d.src, d.dst, d.strides, d.kernel, d.pad_l,
                                      d.pad_r);
    dnnl::pooling_backward::primitive_desc pd(desc, attr, engine, fwd_pd);
    p.backward = dnnl::pooling_backward(pd);
    p.scratchpad = pd.scratchpad_desc();
    if (max_) {
      p.forward = dnnl::pooling_forward(fwd_pd);
      p.workspace = fwd_pd.workspace_desc();
      if (fwd_pd.scratchpad_desc().get_size() > p.scratchpad.get_size()) {
        p.scratchpad = fwd_pd.scratchpad_desc();
      }
    }
    return p;
  }

  const WindowAttrs attrs_;
  const bool max_;
  onednn::PrimitiveCache<PoolKey, Primitive> cache_;
};

class MaxPoolGradKernel : public PoolGradKernel {
 public:
  explicit MaxPoolGradKernel(const KernelConstruction& c) : PoolGradKernel(c, true) {}
};
class AvgPoolGradKernel : public PoolGradKernel {
 public:
  explicit AvgPoolGradKernel(const KernelConstruction& c) : PoolGradKernel(c, false) {}
};

}  // namespace

void RegisterCpuConvGradKernels(KernelRegistry& registry) {
  registry.Register({"Conv2DBackpropInput", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<Conv2DBackpropInputKernel>()});
  registry.Register({"Conv2DBackpropFilter", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<Conv2DBackpropFilterKernel>()});
  registry.Register({"DepthwiseConv2dNativeBackpropInput", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<DepthwiseBackpropInputKernel>()});
  registry.Register({"DepthwiseConv2dNativeBackpropFilter", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<DepthwiseBackpropFilterKernel>()});
  registry.Register({"MaxPoolGrad", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<MaxPoolGradKernel>()});
  registry.Register({"AvgPoolGrad", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<AvgPoolGradKernel>()});
}

}  // namespace weir
