// onednn_conv.cc - oneDNN descriptors, filter reorders and forward convolution shared by the
// convolution and pooling CPU kernels (see onednn_conv.h).
#include "kernels/cpu/onednn_conv.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weir {
namespace conv_internal {

using onednn::AllocateFor;
using onednn::Bind;
using onednn::RunOnThreadStream;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::memory::desc DataDesc(const Layout& layout, int64_t n, int64_t c, int64_t h, int64_t w) {
  return dnnl::memory::desc({n, c, h, w}, dt::f32, layout.nchw ? tag::nchw : tag::nhwc);
}

std::vector<int64_t> DataDims(const Layout& layout, int64_t n, int64_t h, int64_t w, int64_t c) {
  std::vector<int64_t> dims(4);
  dims[layout.n] = n;
  dims[layout.h] = h;
  dims[layout.w] = w;
  dims[layout.c] = c;
  return dims;
}

absl::StatusOr<ConvShape> ForwardConvShape(const Layout& l, const Tensor& input,
                                           const Tensor& filter, bool depthwise) {
  if (input.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
  }
  if (filter.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 1 (filter) has shape ", filter.shape().ToString(), ", expected rank 4"));
  }
  ConvShape shape;
  shape.batch = input.dim(l.n);
  shape.in_h = input.dim(l.h);
  shape.in_w = input.dim(l.w);
  shape.in_c = input.dim(l.c);
  shape.kh = filter.dim(0);
  shape.kw = filter.dim(1);
  const int64_t in_c = shape.in_c, f_in = filter.dim(2), f_out = filter.dim(3);
  if (filter.num_elements() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("input 1 (filter) has shape ",
                                                   filter.shape().ToString(),
                                                   ", expected no zero dimensions"));
  }
  if (depthwise) {
    if (f_in != in_c) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (filter) has shape ", filter.shape().ToString(),
          ", expected dimension 2 to be ", in_c, " (the depth of input 0)"));
    }
    shape.groups = in_c;
    shape.group_out = f_out;
    shape.group_in = 1;
    return shape;
  }
  if (in_c % f_in != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 1 (filter) has shape ", filter.shape().ToString(),
        ", expected dimension 2 to divide ", in_c, " (the depth of input 0)"));
  }
  shape.groups = in_c / f_in;
  if (shape.groups == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 0 has shape ", input.shape().ToString(), ", expected a depth of at least ", f_in,
        " (dimension 2 of the filter)"));
  }
  if (f_out % shape.groups != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 1 (filter) has shape ", filter.shape().ToString(),
        ", expected dimension 3 to be a multiple of the number of groups ", shape.groups));
  }
  shape.group_out = f_out / shape.groups;
  shape.group_in = f_in;
  return shape;
}

absl::Status ComputeConvGeometry(const WindowAttrs& attrs, ConvShape& shape) {
  const Layout& l = attrs.layout;
  absl::StatusOr<SpatialGeometry> gh =
      ComputeSpatial(attrs, l.h, shape.in_h, shape.kh, attrs.dilations[l.h]);
  if (!gh.ok()) return gh.status();
  absl::StatusOr<SpatialGeometry> gw =
      ComputeSpatial(attrs, l.w, shape.in_w, shape.kw, attrs.dilations[l.w]);
  if (!gw.ok()) return gw.status();
  shape.h = *gh;
  shape.w = *gw;
  return absl::OkStatus();
}

ConvDescs DescribeConv(const WindowAttrs& attrs, const ConvShape& s) {
  const Layout& l = attrs.layout;
  const int64_t out_c = s.out_c();
  ConvDescs d;
  d.src = DataDesc(l, s.batch, s.in_c, s.in_h, s.in_w);
  d.dst = DataDesc(l, s.batch, out_c, s.h.out, s.w.out);
  // TensorFlow's filter is [kh, kw, group_in, out_c] row-major with output channel
  // g * group_out + o (a depthwise [kh, kw, C, M] filter is the same with group_in 1);
  // element (g, o, i, h, w) sits at ((h * kw + w) * group_in + i) * out_c + g * group_out + o.
  const int64_t w_stride = s.group_in * out_c;
  if (s.groups == 1) {
    d.user_weights = dnnl::memory::desc({out_c, s.group_in, s.kh, s.kw}, dt::f32,
                                        {1, out_c, s.kw * w_stride, w_stride});
  } else {
    d.user_weights = dnnl::memory::desc({s.groups, s.group_out, s.group_in, s.kh, s.kw}, dt::f32,
                                        {s.group_out, 1, out_c, s.kw * w_stride, w_stride});
  }
  d.any_weights = dnnl::memory::desc(d.user_weights.dims(), dt::f32, tag::any);
  d.strides = {attrs.strides[l.h], attrs.strides[l.w]};
  // oneDNN counts dilation from 0 (no dilation), TensorFlow from 1.
  d.dilates = {attrs.dilations[l.h] - 1, attrs.dilations[l.w] - 1};
  d.pad_l = {s.h.pad_before, s.w.pad_before};
  d.pad_r = {s.h.pad_after, s.w.pad_after};
  return d;
}

std::string DescribeConvKey(absl::string_view what, const ConvKey& key) {
  return absl::StrCat(what, " for input (N,H,W,C) [",
                      absl::StrJoin(key.begin(), key.begin() + 4, ","), "] and filter [",
                      absl::StrJoin(key.begin() + 4, key.begin() + 8, ","), "]");
}

dnnl::memory ConvWeights::Bind(dnnl::stream& stream, const void* filter, void* scratch) const {
  if (const_copy != nullptr) return onednn::Bind(primitive, const_copy->data());
  if (!reordered()) return onednn::Bind(user, filter);
  dnnl::memory user_w = onednn::Bind(user, filter);
  dnnl::memory w = onednn::Bind(primitive, scratch);
  reorder.execute(stream, user_w, w);
  return w;
}

ConvWeights MakeConvWeights(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive,
                            const void* const_filter) {
  ConvWeights w;
  w.user = user;
  w.primitive = primitive;
  if (!w.reordered()) return w;
  const dnnl::engine& engine = onednn::CpuEngine();
  w.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(engine, user, engine, primitive));
  if (const_filter != nullptr) {
    auto copy = std::make_shared<std::vector<float>>(
        (primitive.get_size() + sizeof(float) - 1) / sizeof(float));
    dnnl::stream& stream = onednn::ThreadStream();
    dnnl::memory user_w = Bind(user, const_filter);
    dnnl::memory copy_w = Bind(primitive, copy->data());
    w.reorder.execute(stream, user_w, copy_w);
    stream.wait();
    w.const_copy = std::move(copy);
  }
  return w;
}

ForwardConv CreateForwardConv(const WindowAttrs& attrs, const ConvShape& shape, bool with_bias,
                              const dnnl::primitive_attr& attr, const void* const_filter) {
  const ConvDescs d = DescribeConv(attrs, shape);
  ForwardConv p;
  p.src = d.src;
  p.dst = d.dst;
  if (with_bias) p.bias = dnnl::memory::desc({shape.out_c()}, dt::f32, tag::a);
  // An empty bias descriptor makes the primitive bias-free.
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, p.src,
      d.any_weights, p.bias, p.dst, d.strides, d.dilates, d.pad_l, d.pad_r);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, onednn::CpuEngine());
  p.scratchpad = pd.scratchpad_desc();
  p.conv = dnnl::convolution_forward(pd);
  p.weights = MakeConvWeights(d.user_weights, pd.weights_desc(), const_filter);
  return p;
}

absl::Status RunForwardConv(KernelContext* ctx, const ForwardConv& p, const Tensor& input,
                            const Tensor& filter, const Tensor* bias, Tensor& output,
                            absl::string_view what) {
  absl::StatusOr<Tensor> scratch = AllocateFor(ctx, p.scratchpad);
  if (!scratch.ok()) return scratch.status();
  absl::StatusOr<Tensor> weights = onednn::AllocateScratch(ctx, p.weights.CallBytes());
  if (!weights.ok()) return weights.status();
  return RunOnThreadStream(what, [&](dnnl::stream& stream) {
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, Bind(p.src, input.raw_data())},
        {DNNL_ARG_WEIGHTS, p.weights.Bind(stream, filter.raw_data(), weights->raw_data())},
        {DNNL_ARG_DST, Bind(p.dst, output.raw_data())},
        {DNNL_ARG_SCRATCHPAD, Bind(p.scratchpad, scratch->raw_data())}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, Bind(p.bias, bias->raw_data()));
    p.conv.execute(stream, args);
  });
}

absl::Status CheckPoolWindow(const WindowAttrs& attrs) {
  if (auto s = CheckWindowAttrs(attrs, true); !s.ok()) return s;
  const Layout& l = attrs.layout;
  const std::vector<int64_t>& ksize = attrs.ksize;
  const std::vector<int64_t>& strides = attrs.strides;
  if (ksize[l.n] != 1 || strides[l.n] != 1 || ksize[l.c] != 1 || strides[l.c] != 1) {
    return absl::UnimplementedError(absl::StrCat(
        "pooling over the batch or depth dimension is not supported (ksize [",
        absl::StrJoin(ksize, ","), "], strides [", absl::StrJoin(strides, ","), "])"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<SpatialGeometry, SpatialGeometry>> ComputePoolGeometry(
    const WindowAttrs& attrs, int64_t in_h, int64_t in_w) {
  const Layout& l = attrs.layout;
  const std::vector<int64_t>& ksize = attrs.ksize;
  absl::StatusOr<SpatialGeometry> gh = ComputeSpatial(attrs, l.h, in_h, ksize[l.h], 1);
  if (!gh.ok()) return gh.status();
  absl::StatusOr<SpatialGeometry> gw = ComputeSpatial(attrs, l.w, in_w, ksize[l.w], 1);
  if (!gw.ok()) return gw.status();
  if (gh->pad_before >= ksize[l.h] || gh->pad_after >= ksize[l.h] ||
      gw->pad_before >= ksize[l.w] || gw->pad_after >= ksize[l.w]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "explicit_paddings is [", absl::StrJoin(attrs.explicit_paddings, ","),
        "], expected paddings smaller than the window size [", ksize[l.h], ",", ksize[l.w],
        "]"));
  }
  return std::make_pair(*gh, *gw);
}

PoolDescs DescribePool(const WindowAttrs& attrs, const PoolKey& key, const SpatialGeometry& gh,
                       const SpatialGeometry& gw) {
  const Layout& l = attrs.layout;
  PoolDescs d;
  d.src = DataDesc(l, key[0], key[3], key[1], key[2]);
  d.dst = DataDesc(l, key[0], key[3], gh.out, gw.out);
  d.strides = {attrs.strides[l.h], attrs.strides[l.w]};
  d.kernel = {attrs.ksize[l.h], attrs.ksize[l.w]};
  d.pad_l = {gh.pad_before, gw.pad_before};
  d.pad_r = {gh.pad_after, gw.pad_after};
  return d;
}

std::string DescribePoolKey(absl::string_view what, const PoolKey& key) {
  return absl::StrCat(what, " for input [", absl::StrJoin(key.begin(), key.begin() + 4, ","),
                      "]");
}

}  // namespace conv_internal
}  // namespace weir
