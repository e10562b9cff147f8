// fused_kernels.cc - _FusedMatMul, _FusedConv2D and _FusedDepthwiseConv2dNative on the CPU
// (float32): oneDNN's matmul / convolution primitive with the bias as the primitive's bias
// argument and the activation as an eltwise post-op, so the output is written once.
//
// Supported fused_ops: ["BiasAdd"] and ["BiasAdd", A] with A one of Relu, Relu6, Elu,
// LeakyRelu, Tanh, Sigmoid (num_args 1). Anything else fails at kernel creation, naming the
// list. Relu, LeakyRelu, Relu6 and Elu map to oneDNN eltwise post-ops with TensorFlow's
// semantics: Relu = relu(alpha 0), LeakyRelu = relu(alpha leakyrelu_alpha) (x > 0 ? x :
// alpha * x), Relu6 = clip(0, 6), Elu = elu(alpha 1) (x > 0 ? x : exp(x) - 1). Tanh and Sigmoid
// run the primitive with the bias alone and then TanhFloatArray / SigmoidFloatArray
// (activation_float.h) over the output while it is in cache. oneDNN's tanh post-op is as slow
// as its eltwise tanh on the benchmark's AMD CPU: a [64,256] x [256,256] _FusedMatMul took
// 93 us with the bias alone, 155 us with Tanh as a post-op, 100 us with TanhFloatArray after.
// Sigmoid costs the same either way (105 us); it runs after the primitive too so that fused
// and plain Sigmoid give the same values.
//
// Primitives are cached per shape as in matmul.cc / conv_kernels.cc. A convolution filter
// that comes straight from a Const node is reordered into the primitive's preferred layout
// once per shape and kept (a Const's value never changes); other filters are reordered on
// every call, as Conv2D does.
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/activation_float.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/gemm_weights.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/matmul_dims.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

using onednn::CpuEngine;
using onednn::ThreadStream;

// The post-processing a fused node asks for: a oneDNN eltwise post-op, or an array function run
// over the output after the primitive, or neither (bias only).
struct FusedEpilogue {
  bool has_activation = false;  // as a oneDNN post-op
  dnnl::algorithm algorithm = dnnl::algorithm::eltwise_relu;
  float alpha = 0.f;
  float beta = 0.f;
  void (*array_activation)(const float* in, float* out, int64_t n) = nullptr;

  dnnl::primitive_attr MakeAttr() const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (has_activation) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, algorithm, alpha, beta);
      attr.set_post_ops(ops);
    }
    return attr;
  }

  // Runs the array activation, if any, in place over the primitive's output.
  void ApplyAfterPrimitive(Tensor& output) const {
    if (array_activation == nullptr) return;
    float* data = output.data<float>();
    array_activation(data, data, output.num_elements());
  }
};

absl::StatusOr<FusedEpilogue> ParseFusedOps(const KernelConstruction& c) {
  std::vector<std::string> fused_ops;
  if (auto s = c.GetAttr("fused_ops", &fused_ops); !s.ok()) return s;
  int64_t num_args = 0;
  if (auto s = c.GetAttr("num_args", &num_args); !s.ok()) return s;
  float leakyrelu_alpha = 0.2f;
  c.GetAttr("leakyrelu_alpha", &leakyrelu_alpha).IgnoreError();
  const std::string listed = absl::StrCat("[", absl::StrJoin(fused_ops, ","), "]");
  if (fused_ops.empty() || fused_ops[0] != "BiasAdd" || fused_ops.size() > 2) {
    return absl::UnimplementedError(absl::StrCat(
        "fused_ops is ", listed,
        ", expected [BiasAdd] or [BiasAdd,A] with A one of Relu, Relu6, Elu, LeakyRelu, Tanh, "
        "Sigmoid"));
  }
  if (num_args != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_args is ", num_args, ", expected 1 for fused_ops ", listed));
  }
  FusedEpilogue e;
  if (fused_ops.size() == 1) return e;
  e.has_activation = true;
  const std::string& act = fused_ops[1];
  using alg = dnnl::algorithm;
  if (act == "Relu") {
    e.algorithm = alg::eltwise_relu;
  } else if (act == "LeakyRelu") {
    e.algorithm = alg::eltwise_relu;
    e.alpha = leakyrelu_alpha;
  } else if (act == "Relu6") {
    e.algorithm = alg::eltwise_clip;
    e.alpha = 0.f;
    e.beta = 6.f;
  } else if (act == "Elu") {
    e.algorithm = alg::eltwise_elu;
    e.alpha = 1.f;
  } else if (act == "Tanh") {
    e.has_activation = false;
    e.array_activation = TanhFloatArray;
  } else if (act == "Sigmoid") {
    e.has_activation = false;
    e.array_activation = SigmoidFloatArray;
  } else {
    return absl::UnimplementedError(absl::StrCat(
        "fused_ops is ", listed, ", expected the activation to be one of Relu, Relu6, Elu, "
        "LeakyRelu, Tanh, Sigmoid (found ", act, ")"));
  }
  return e;
}

absl::Status CheckBias(const Tensor& bias, int64_t channels) {
  if (bias.rank() != 1 || bias.dim(0) != channels) {
    return absl::InvalidArgumentError(absl::StrCat("input 2 (bias) has shape ",
                                                   bias.shape().ToString(), ", expected [",
                                                   channels, "]"));
  }
  return absl::OkStatus();
}

class FusedMatMulKernel : public OpKernel {
 public:
  FusedMatMulKernel(const KernelConstruction& c, FusedEpilogue epilogue)
      : OpKernel(c), epilogue_(epilogue), const_b_(InputIsConst(c, 1)) {
    c.GetAttr("transpose_a", &transpose_a_).IgnoreError();
    c.GetAttr("transpose_b", &transpose_b_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    const Tensor& bias = ctx->input(2);
    absl::StatusOr<MatMulDims> dims = GetMatMulDims(a, b, transpose_a_, transpose_b_);
    if (!dims.ok()) return dims.status();
    const int64_t m = dims->m, k = dims->k, n = dims->n;
    if (auto s = CheckBias(bias, n); !s.ok()) return s;
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, DT_FLOAT, TensorShape{m, n});
    if (!out.ok()) return out.status();
    if (m == 0 || n == 0) return absl::OkStatus();
    // k == 0 still runs the primitive: the product is zero, the bias and activation apply.
    const int team = onednn::UseIntraOpThreads(ctx->device(), onednn::GemmWork(m, k, n));
    absl::StatusOr<Primitive> p = GetPrimitive(m, k, n, team, b);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::memory a_mem(p->operands.a, engine, a.raw_data());
      dnnl::memory b_mem(p->operands.b, engine, p->operands.BData(b));
      dnnl::memory bias_mem(p->bias, engine, bias.raw_data());
      dnnl::memory c_mem(p->operands.c, engine, (*out)->raw_data());
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      dnnl::stream& stream = ThreadStream();
      p->matmul.execute(stream, {{DNNL_ARG_SRC, a_mem},
                                 {DNNL_ARG_WEIGHTS, b_mem},
                                 {DNNL_ARG_BIAS, bias_mem},
                                 {DNNL_ARG_DST, c_mem},
                                 {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN fused matmul failed: ", e.what()));
    }
    epilogue_.ApplyAfterPrimitive(**out);
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::matmul matmul;
    // a, b (the padded copy of a Const b when it has one) and c.
    GemmOperands operands;
    dnnl::memory::desc bias, scratchpad;
    size_t scratchpad_bytes = 0;
  };
  using ShapeKey = std::array<int64_t, 4>;  // m, k, n, team size

  absl::StatusOr<Primitive> GetPrimitive(int64_t m, int64_t k, int64_t n, int team,
                                         const Tensor& b) {
    const ShapeKey key{m, k, n, team};
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    using dt = dnnl::memory::data_type;
    Primitive p;
    try {
      // The bias is a [1, n] row broadcast over the m rows.
      p.operands = DescribeGemm(m, k, n, transpose_a_, transpose_b_,
                                const_b_ ? b.data<float>() : nullptr);
      p.bias = dnnl::memory::desc({1, n}, dt::f32, dnnl::memory::dims{n, 1});
      dnnl::matmul::primitive_desc pd(
          dnnl::matmul::desc(p.operands.a, p.operands.b, p.bias, p.operands.c),
                                      epilogue_.MakeAttr(), CpuEngine());
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.matmul = dnnl::matmul(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN fused matmul for [", m, ",", k, "] x [", k,
                                              ",", n, "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const FusedEpilogue epilogue_;
  bool transpose_a_ = false;
  bool transpose_b_ = false;
  const bool const_b_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

using conv_internal::ComputeSpatial;
using conv_internal::Layout;
using conv_internal::SpatialGeometry;
using conv_internal::WindowAttrs;

// _FusedConv2D (depthwise = false) and _FusedDepthwiseConv2dNative (depthwise = true).
class FusedConvKernel : public OpKernel {
 public:
  FusedConvKernel(const KernelConstruction& c, FusedEpilogue epilogue, bool depthwise)
      : OpKernel(c),
        attrs_(conv_internal::ReadWindowAttrs(c)),
        epilogue_(epilogue),
        depthwise_(depthwise),
        const_filter_(InputIsConst(c, 1)) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, false); !s.ok()) return s;
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    const Tensor& bias = ctx->input(2);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    if (filter.rank() != 4 || filter.num_elements() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                       ", expected rank 4 with no zero dimensions"));
    }
    const Layout& l = attrs_.layout;
    const int64_t batch = input.dim(l.n), in_h = input.dim(l.h), in_w = input.dim(l.w),
                  in_c = input.dim(l.c);
    const int64_t kh = filter.dim(0), kw = filter.dim(1), f_in = filter.dim(2),
                  f_out = filter.dim(3);
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
      if (in_c == 0 || in_c % f_in != 0 || f_out % (in_c / f_in) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (filter) has shape ", filter.shape().ToString(),
            ", expected dimension 2 to divide ", in_c,
            " (the depth of input 0) and dimension 3 to be a multiple of the group count"));
      }
      groups = in_c / f_in;
      group_out = f_out / groups;
      group_in = f_in;
    }
    const int64_t out_c = groups * group_out;
    if (auto s = CheckBias(bias, out_c); !s.ok()) return s;
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

    const int team = onednn::UseIntraOpThreads(
        ctx->device(), 2.0 * static_cast<double>((*output)->num_elements()) * kh * kw * group_in);
    const ShapeKey key{batch, in_h, in_w, in_c, kh, kw, f_in, f_out, team};
    absl::StatusOr<Primitive> p =
        GetPrimitive(key, groups, group_out, group_in, *gh, *gw, filter);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    const bool reorder_now = p->reorder_weights && p->const_weights == nullptr;
    absl::StatusOr<Tensor> weights =
        onednn::AllocateScratch(ctx, reorder_now ? p->weights.get_size() : 0);
    if (!weights.ok()) return weights.status();
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      dnnl::memory src_mem(p->src, engine, input.raw_data());
      dnnl::memory dst_mem(p->dst, engine, (*output)->raw_data());
      dnnl::memory bias_mem(p->bias, engine, bias.raw_data());
      dnnl::memory w_mem;
      if (p->const_weights != nullptr) {
        // oneDNN takes a non-const handle; the primitive only reads its weights.
        w_mem = dnnl::memory(p->weights, engine, const_cast<float*>(p->const_weights->data()));
      } else if (reorder_now) {
        dnnl::memory user_w_mem(p->user_weights, engine, filter.raw_data());
        w_mem = dnnl::memory(p->weights, engine, weights->raw_data());
        p->reorder.execute(stream, user_w_mem, w_mem);
      } else {
        w_mem = dnnl::memory(p->user_weights, engine, filter.raw_data());
      }
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      p->conv.execute(stream, {{DNNL_ARG_SRC, src_mem},
                               {DNNL_ARG_WEIGHTS, w_mem},
                               {DNNL_ARG_BIAS, bias_mem},
                               {DNNL_ARG_DST, dst_mem},
                               {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN fused convolution failed: ", e.what()));
    }
    epilogue_.ApplyAfterPrimitive(**output);
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::convolution_forward conv;
    dnnl::memory::desc src, dst, bias, user_weights, weights, scratchpad;
    size_t scratchpad_bytes = 0;
    bool reorder_weights = false;
    dnnl::reorder reorder;
    // The Const filter already in `weights` layout (shared by copies of this entry).
    std::shared_ptr<const std::vector<float>> const_weights;
  };
  using ShapeKey = std::array<int64_t, 9>;  // input N, H, W, C, filter dims, team size

  absl::StatusOr<Primitive> GetPrimitive(const ShapeKey& key, int64_t groups, int64_t group_out,
                                         int64_t group_in, const SpatialGeometry& gh,
                                         const SpatialGeometry& gw, const Tensor& filter) {
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
      p.bias = dnnl::memory::desc({out_c}, dt::f32, tag::a);
      // TensorFlow's HWIO filter (HWCM for depthwise) as oneDNN (grouped) weights through
      // strides, exactly as conv_kernels.cc describes it.
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
      const dnnl::memory::dims dilates{attrs_.dilations[l.h] - 1, attrs_.dilations[l.w] - 1};
      const dnnl::memory::dims pad_l{gh.pad_before, gw.pad_before};
      const dnnl::memory::dims pad_r{gh.pad_after, gw.pad_after};
      dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, p.src,
          any_weights, p.bias, p.dst, strides, dilates, pad_l, pad_r);
      dnnl::convolution_forward::primitive_desc pd(desc, epilogue_.MakeAttr(), CpuEngine());
      p.weights = pd.weights_desc();
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.conv = dnnl::convolution_forward(pd);
      p.reorder_weights = p.weights != p.user_weights;
      if (p.reorder_weights) {
        p.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            CpuEngine(), p.user_weights, CpuEngine(), p.weights));
        if (const_filter_) {
          auto buffer = std::make_shared<std::vector<float>>(
              (p.weights.get_size() + sizeof(float) - 1) / sizeof(float));
          dnnl::stream& stream = ThreadStream();
          dnnl::memory user_w_mem(p.user_weights, CpuEngine(), filter.raw_data());
          dnnl::memory w_mem(p.weights, CpuEngine(), buffer->data());
          p.reorder.execute(stream, user_w_mem, w_mem);
          stream.wait();
          p.const_weights = std::move(buffer);
        }
      }
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat(
          "oneDNN fused convolution for input (N,H,W,C) [",
          absl::StrJoin(key.begin(), key.begin() + 4, ","), "] and filter [",
          absl::StrJoin(key.begin() + 4, key.begin() + 8, ","), "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const WindowAttrs attrs_;
  const FusedEpilogue epilogue_;
  const bool depthwise_;
  const bool const_filter_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

KernelFactory FusedMatMulFactory() {
  return [](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    absl::StatusOr<FusedEpilogue> e = ParseFusedOps(c);
    if (!e.ok()) return e.status();
    return std::unique_ptr<OpKernel>(new FusedMatMulKernel(c, *e));
  };
}

KernelFactory FusedConvFactory(bool depthwise) {
  return [depthwise](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    absl::StatusOr<FusedEpilogue> e = ParseFusedOps(c);
    if (!e.ok()) return e.status();
    std::string data_format = "NHWC";
    c.GetAttr("data_format", &data_format).IgnoreError();
    if (data_format != "NHWC" && data_format != "NCHW") {
      return absl::UnimplementedError(
          absl::StrCat("data_format ", data_format, " is not supported, expected NHWC or NCHW"));
    }
    int64_t num_host_args = 0;
    c.GetAttr("num_host_args", &num_host_args).IgnoreError();
    if (num_host_args != 0) {
      return absl::UnimplementedError(
          absl::StrCat("num_host_args is ", num_host_args, ", expected 0"));
    }
    if (c.num_inputs() < 3 || c.input_type(2) != DT_FLOAT) {
      return absl::InvalidArgumentError("args has no float32 bias, expected TArgs [float]");
    }
    return std::unique_ptr<OpKernel>(new FusedConvKernel(c, *e, depthwise));
  };
}

}  // namespace

void RegisterCpuFusedKernels(KernelRegistry& registry) {
  registry.Register({"_FusedMatMul", kDeviceCpu, "T", {DT_FLOAT}, FusedMatMulFactory()});
  registry.Register({"_FusedConv2D", kDeviceCpu, "T", {DT_FLOAT}, FusedConvFactory(false)});
  registry.Register(
      {"_FusedDepthwiseConv2dNative", kDeviceCpu, "T", {DT_FLOAT}, FusedConvFactory(true)});
}

}  // namespace weir
