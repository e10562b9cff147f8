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
// Primitives are cached per shape as in matmul.cc / conv_kernels.cc, and the convolutions share
// Conv2D's setup (onednn_conv.h): a filter that comes straight from a Const node is reordered
// into the primitive's preferred layout once per shape and kept (a Const's value never
// changes); other filters are reordered on every call.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/activation_float.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/gemm_weights.h"
#include "kernels/cpu/matmul_dims.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/onednn_conv.h"
#include "kernels/cpu/onednn_primitive.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

using conv_internal::ConvKey;
using conv_internal::ConvShape;
using conv_internal::ForwardConv;
using conv_internal::WindowAttrs;
using onednn::Bind;
using onednn::RunOnThreadStream;

// The post-processing a fused node asks for: a oneDNN eltwise post-op, or an array function run
// over the output after the primitive, or neither (bias only).
struct FusedEpilogue {
  bool has_activation = false;  // as a oneDNN post-op
  dnnl::algorithm algorithm = dnnl::algorithm::eltwise_relu;
  float alpha = 0.f;
  float beta = 0.f;
  void (*array_activation)(const float* in, float* out, int64_t n) = nullptr;

  dnnl::primitive_attr MakeAttr() const {
    dnnl::primitive_attr attr = onednn::UserScratchpadAttr();
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
    const ShapeKey key{m, k, n, team};
    absl::StatusOr<Primitive> p = cache_.Get(
        key, [&] { return CreatePrimitive(m, k, n, b); },
        [&] {
          return absl::StrCat("oneDNN fused matmul for [", m, ",", k, "] x [", k, ",", n, "]");
        });
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateFor(ctx, p->scratchpad);
    if (!scratch.ok()) return scratch.status();
    absl::Status s = RunOnThreadStream("oneDNN fused matmul", [&](dnnl::stream& stream) {
      p->matmul.execute(stream, {{DNNL_ARG_SRC, Bind(p->operands.a, a.raw_data())},
                                 {DNNL_ARG_WEIGHTS, Bind(p->operands.b, p->operands.BData(b))},
                                 {DNNL_ARG_BIAS, Bind(p->bias, bias.raw_data())},
                                 {DNNL_ARG_DST, Bind(p->operands.c, (*out)->raw_data())},
                                 {DNNL_ARG_SCRATCHPAD, Bind(p->scratchpad, scratch->raw_data())}});
    });
    if (!s.ok()) return s;
    epilogue_.ApplyAfterPrimitive(**out);
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::matmul matmul;
    // a, b (the padded copy of a Const b when it has one) and c.
    GemmOperands operands;
    dnnl::memory::desc bias, scratchpad;
  };
  using ShapeKey = std::array<int64_t, 4>;  // m, k, n, team size

  Primitive CreatePrimitive(int64_t m, int64_t k, int64_t n, const Tensor& b) const {
    using dt = dnnl::memory::data_type;
    Primitive p;
    // The bias is a [1, n] row broadcast over the m rows.
    p.operands = DescribeGemm(m, k, n, transpose_a_, transpose_b_,
                              const_b_ ? b.data<float>() : nullptr);
    p.bias = dnnl::memory::desc({1, n}, dt::f32, dnnl::memory::dims{n, 1});
    dnnl::matmul::primitive_desc pd(
        dnnl::matmul::desc(p.operands.a, p.operands.b, p.bias, p.operands.c),
        epilogue_.MakeAttr(), onednn::CpuEngine());
    p.scratchpad = pd.scratchpad_desc();
    p.matmul = dnnl::matmul(pd);
    return p;
  }

  const FusedEpilogue epilogue_;
  bool transpose_a_ = false;
  bool transpose_b_ = false;
  const bool const_b_;
  onednn::PrimitiveCache<ShapeKey, Primitive> cache_;
};

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
    const conv_internal::Layout& l = attrs_.layout;
    const int64_t in_c = input.dim(l.c), f_in = filter.dim(2), f_out = filter.dim(3);
    if (!depthwise_ && (in_c == 0 || in_c % f_in != 0 || f_out % (in_c / f_in) != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (filter) has shape ", filter.shape().ToString(),
          ", expected dimension 2 to divide ", in_c,
          " (the depth of input 0) and dimension 3 to be a multiple of the group count"));
    }
    // Conv2D's checks: after the ones above only a depthwise filter of the wrong depth fails
    // them, with the message this kernel has always given.
    absl::StatusOr<ConvShape> checked =
        conv_internal::ForwardConvShape(l, input, filter, depthwise_);
    if (!checked.ok()) return checked.status();
    ConvShape& shape = *checked;
    if (auto s = CheckBias(bias, shape.out_c()); !s.ok()) return s;
    if (auto s = conv_internal::ComputeConvGeometry(attrs_, shape); !s.ok()) return s;
    absl::StatusOr<Tensor*> output = ctx->allocate_output(
        0, DT_FLOAT,
        TensorShape(conv_internal::DataDims(l, shape.batch, shape.h.out, shape.w.out,
                                            shape.out_c())));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();

    const int team = onednn::UseIntraOpThreads(
        ctx->device(),
        2.0 * static_cast<double>((*output)->num_elements()) * shape.kh * shape.kw *
            shape.group_in);
    const ConvKey key{shape.batch, shape.in_h, shape.in_w, in_c, shape.kh, shape.kw,
                      f_in,        f_out,      team};
    absl::StatusOr<ForwardConv> p = cache_.Get(
        key,
        [&] {
          return conv_internal::CreateForwardConv(attrs_, shape, /*with_bias=*/true,
                                                  epilogue_.MakeAttr(),
                                                  const_filter_ ? filter.raw_data() : nullptr);
        },
        [&] { return conv_internal::DescribeConvKey("oneDNN fused convolution", key); });
    if (!p.ok()) return p.status();
    if (auto s = conv_internal::RunForwardConv(ctx, *p, input, filter, &bias, **output,
                                               "oneDNN fused convolution");
        !s.ok()) {
      return s;
    }
    epilogue_.ApplyAfterPrimitive(**output);
    return absl::OkStatus();
  }

 private:
  const WindowAttrs attrs_;
  const FusedEpilogue epilogue_;
  const bool depthwise_;
  // The filter comes straight from a Const node: it is reordered once per primitive.
  const bool const_filter_;
  onednn::PrimitiveCache<ConvKey, ForwardConv> cache_;
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
