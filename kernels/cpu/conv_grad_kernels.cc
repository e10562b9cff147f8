// conv_grad_kernels.cc - The convolution-family backprop ops on the CPU through oneDNN
// (float32): Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput on
// convolution_backward_data, Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter on
// convolution_backward_weights, MaxPoolGrad and AvgPoolGrad on pooling_backward.
//
// Data tensors stay in the node's layout (nhwc or nchw to oneDNN); filters are TensorFlow's
// HWIO / HWCM described with explicit strides as (grouped) weights, exactly as the forward
// kernel in conv_kernels.cc does, so no transpose is made by hand: the filter is reordered into
// the primitive's preferred layout for backward data, and the filter gradient is reordered
// back out of it for backward weights. Primitives (with the forward primitive descriptor they
// need as a hint) are created the first time a kernel sees a shape and cached under a mutex;
// every execution gets its own scratchpad.
//
// MaxPoolGrad recomputes the forward max pooling on orig_input to get oneDNN's workspace (the
// argmax of each window) and routes grad through it; orig_output is not read. Like TensorFlow,
// padded positions never win a window, and AvgPoolGrad spreads each gradient over the valid,
// non-padded elements of its window.
#include <array>
#include <cstring>
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
using conv_internal::Layout;
using conv_internal::SpatialGeometry;
using conv_internal::WindowAttrs;
using onednn::CpuEngine;
using onednn::ThreadStream;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
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
    absl::StatusOr<SpatialGeometry> gh =
        ComputeSpatial(attrs_, l.h, in_h, kh, attrs_.dilations[l.h]);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw =
        ComputeSpatial(attrs_, l.w, in_w, kw, attrs_.dilations[l.w]);
    if (!gw.ok()) return gw.status();
    Dims4 out_dims;
    out_dims[l.n] = batch;
    out_dims[l.h] = gh->out;
    out_dims[l.w] = gw->out;
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
    const ShapeKey key{batch, in_h, in_w, in_c, kh, kw, f_in, f_out, team};
    absl::StatusOr<Primitive> p = GetPrimitive(key, groups, group_out, group_in, *gh, *gw);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    absl::StatusOr<Tensor> weights =
        onednn::AllocateScratch(ctx, p->reorder_weights ? p->weights.get_size() : 0);
    if (!weights.ok()) return weights.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      dnnl::memory diff_dst(p->dst, engine, grad.raw_data());
      if (wrt_filter_) {
        dnnl::memory src(p->src, engine, ctx->input(0).raw_data());
        dnnl::memory user_w(p->user_weights, engine, (*output)->raw_data());
        dnnl::memory w = p->reorder_weights
                             ? dnnl::memory(p->weights, engine, weights->raw_data())
                             : user_w;
        p->backward_weights.execute(stream, {{DNNL_ARG_SRC, src},
                                             {DNNL_ARG_DIFF_DST, diff_dst},
                                             {DNNL_ARG_DIFF_WEIGHTS, w},
                                             {DNNL_ARG_SCRATCHPAD, s_mem}});
        if (p->reorder_weights) p->reorder.execute(stream, w, user_w);
      } else {
        dnnl::memory diff_src(p->src, engine, (*output)->raw_data());
        dnnl::memory user_w(p->user_weights, engine, ctx->input(1).raw_data());
        dnnl::memory w = user_w;
        if (p->reorder_weights) {
          w = dnnl::memory(p->weights, engine, weights->raw_data());
          p->reorder.execute(stream, user_w, w);
        }
        p->backward_data.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                          {DNNL_ARG_WEIGHTS, w},
                                          {DNNL_ARG_DIFF_SRC, diff_src},
                                          {DNNL_ARG_SCRATCHPAD, s_mem}});
      }
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN convolution backprop failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::convolution_backward_data backward_data;
    dnnl::convolution_backward_weights backward_weights;
    dnnl::memory::desc src, dst, user_weights, weights, scratchpad;
    size_t scratchpad_bytes = 0;
    bool reorder_weights = false;
    // user -> primitive layout for backward data, primitive -> user for backward weights.
    dnnl::reorder reorder;
  };
  using ShapeKey = std::array<int64_t, 9>;  // input N, H, W, C, filter dims, team size

  absl::StatusOr<Primitive> GetPrimitive(const ShapeKey& key, int64_t groups, int64_t group_out,
                                         int64_t group_in, const SpatialGeometry& gh,
                                         const SpatialGeometry& gw) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const Layout& l = attrs_.layout;
    const int64_t batch = key[0], in_h = key[1], in_w = key[2], in_c = key[3];
    const int64_t kh = key[4], kw = key[5];
    const int64_t out_c = groups * group_out;
    const tag data_tag = l.nchw ? tag::nchw : tag::nhwc;
    Primitive p;
    try {
      p.src = dnnl::memory::desc({batch, in_c, in_h, in_w}, dt::f32, data_tag);
      p.dst = dnnl::memory::desc({batch, out_c, gh.out, gw.out}, dt::f32, data_tag);
      // Element (g, o, i, h, w) of TensorFlow's [kh, kw, group_in, out_c] filter sits at
      // ((h * kw + w) * group_in + i) * out_c + g * group_out + o (see conv_kernels.cc).
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
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      // The backward primitives need the forward primitive descriptor as a hint.
      dnnl::convolution_forward::desc fwd_desc(
          dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p.src,
          any_weights, p.dst, strides, dilates, pad_l, pad_r);
      dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, CpuEngine());
      if (wrt_filter_) {
        dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct,
                                                      p.src, any_weights, p.dst, strides,
                                                      dilates, pad_l, pad_r);
        dnnl::convolution_backward_weights::primitive_desc pd(desc, attr, CpuEngine(), fwd_pd);
        p.weights = pd.diff_weights_desc();
        p.scratchpad = pd.scratchpad_desc();
        p.backward_weights = dnnl::convolution_backward_weights(pd);
        p.reorder_weights = p.weights != p.user_weights;
        if (p.reorder_weights) {
          p.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(CpuEngine(), p.weights,
                                                                  CpuEngine(), p.user_weights));
        }
      } else {
        dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, p.src,
                                                   any_weights, p.dst, strides, dilates, pad_l,
                                                   pad_r);
        dnnl::convolution_backward_data::primitive_desc pd(desc, attr, CpuEngine(), fwd_pd);
        p.weights = pd.weights_desc();
        p.scratchpad = pd.scratchpad_desc();
        p.backward_data = dnnl::convolution_backward_data(pd);
        p.reorder_weights = p.weights != p.user_weights;
        if (p.reorder_weights) {
          p.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(CpuEngine(), p.user_weights,
                                                                  CpuEngine(), p.weights));
        }
      }
      p.scratchpad_bytes = p.scratchpad.get_size();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat(
          "oneDNN convolution backprop for input (N,H,W,C) [",
          absl::StrJoin(key.begin(), key.begin() + 4, ","), "] and filter [",
          absl::StrJoin(key.begin() + 4, key.begin() + 8, ","), "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const WindowAttrs attrs_;
  const bool depthwise_;
  const bool wrt_filter_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
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
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, true); !s.ok()) return s;
    const Layout& l = attrs_.layout;
    const std::vector<int64_t>& ksize = attrs_.ksize;
    const std::vector<int64_t>& strides = attrs_.strides;
    if (ksize[l.n] != 1 || strides[l.n] != 1 || ksize[l.c] != 1 || strides[l.c] != 1) {
      return absl::UnimplementedError(absl::StrCat(
          "pooling over the batch or depth dimension is not supported (ksize [",
          absl::StrJoin(ksize, ","), "], strides [", absl::StrJoin(strides, ","), "])"));
    }
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
    absl::StatusOr<SpatialGeometry> gh = ComputeSpatial(attrs_, l.h, in_dims[l.h], ksize[l.h], 1);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw = ComputeSpatial(attrs_, l.w, in_dims[l.w], ksize[l.w], 1);
    if (!gw.ok()) return gw.status();
    if (gh->pad_before >= ksize[l.h] || gh->pad_after >= ksize[l.h] ||
        gw->pad_before >= ksize[l.w] || gw->pad_after >= ksize[l.w]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "explicit_paddings is [", absl::StrJoin(attrs_.explicit_paddings, ","),
          "], expected paddings smaller than the window size [", ksize[l.h], ",", ksize[l.w],
          "]"));
    }
    Dims4 out_dims = in_dims;
    out_dims[l.h] = gh->out;
    out_dims[l.w] = gw->out;
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
    const ShapeKey key{in_dims[l.n], in_dims[l.h], in_dims[l.w], in_dims[l.c], team};
    absl::StatusOr<Primitive> p = GetPrimitive(key, *gh, *gw);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    // Max pooling: the recomputed forward output and the workspace it leaves.
    absl::StatusOr<Tensor> fwd_dst = onednn::AllocateScratch(ctx, max_ ? p->dst.get_size() : 0);
    if (!fwd_dst.ok()) return fwd_dst.status();
    absl::StatusOr<Tensor> workspace =
        onednn::AllocateScratch(ctx, max_ ? p->workspace.get_size() : 0);
    if (!workspace.ok()) return workspace.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      dnnl::memory diff_dst(p->dst, engine, grad.raw_data());
      dnnl::memory diff_src(p->src, engine, (*output)->raw_data());
      if (max_) {
        dnnl::memory src(p->src, engine, ctx->input(0).raw_data());
        dnnl::memory dst(p->dst, engine, fwd_dst->raw_data());
        dnnl::memory ws(p->workspace, engine, workspace->raw_data());
        p->forward.execute(stream, {{DNNL_ARG_SRC, src},
                                    {DNNL_ARG_DST, dst},
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
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN pooling backprop failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::pooling_forward forward;  // max pooling only
    dnnl::pooling_backward backward;
    dnnl::memory::desc src, dst, workspace, scratchpad;
    size_t scratchpad_bytes = 0;  // the larger of the forward and backward scratchpads
  };
  using ShapeKey = std::array<int64_t, 5>;  // batch, height, width, channels, team size

  absl::StatusOr<Primitive> GetPrimitive(const ShapeKey& key, const SpatialGeometry& gh,
                                         const SpatialGeometry& gw) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const Layout& l = attrs_.layout;
    const tag data_tag = l.nchw ? tag::nchw : tag::nhwc;
    const dnnl::algorithm algorithm =
        max_ ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    Primitive p;
    try {
      p.src = dnnl::memory::desc({key[0], key[3], key[1], key[2]}, dt::f32, data_tag);
      p.dst = dnnl::memory::desc({key[0], key[3], gh.out, gw.out}, dt::f32, data_tag);
      const dnnl::memory::dims strides{attrs_.strides[l.h], attrs_.strides[l.w]};
      const dnnl::memory::dims kernel{attrs_.ksize[l.h], attrs_.ksize[l.w]};
      const dnnl::memory::dims pad_l{gh.pad_before, gw.pad_before};
      const dnnl::memory::dims pad_r{gh.pad_after, gw.pad_after};
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::pooling_forward::desc fwd_desc(dnnl::prop_kind::forward_training, algorithm, p.src,
                                           p.dst, strides, kernel, pad_l, pad_r);
      dnnl::pooling_forward::primitive_desc fwd_pd(fwd_desc, attr, CpuEngine());
      dnnl::pooling_backward::desc desc(algorithm, p.src, p.dst, strides, kernel, pad_l, pad_r);
      dnnl::pooling_backward::primitive_desc pd(desc, attr, CpuEngine(), fwd_pd);
      p.backward = dnnl::pooling_backward(pd);
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      if (max_) {
        p.forward = dnnl::pooling_forward(fwd_pd);
        p.workspace = fwd_pd.workspace_desc();
        if (fwd_pd.scratchpad_desc().get_size() > p.scratchpad_bytes) {
          p.scratchpad = fwd_pd.scratchpad_desc();
          p.scratchpad_bytes = p.scratchpad.get_size();
        }
      }
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN pooling backprop for input [",
                                              absl::StrJoin(key.begin(), key.begin() + 4, ","),
                                              "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const WindowAttrs attrs_;
  const bool max_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
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
