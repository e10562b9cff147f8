// fused_ops.cc - TensorFlow's internal fused ops that the fusion pass creates: _FusedMatMul,
// _FusedConv2D and _FusedDepthwiseConv2dNative; and Weir's own _WeirElementwiseChain, which
// the GPU's elementwise-chain fusion creates after placement.
//
// Signatures, attr names and defaults follow TensorFlow's math_ops.cc / nn_ops.cc (which
// grappler's remapper targets), so a graph Weir optimizes stays loadable by TensorFlow. The
// base op's computation is followed by `fused_ops` in order ("BiasAdd" then an optional
// activation); `args` holds the bias. The output shape is the base op's: each shape function
// defers to the registered MatMul/Conv2D/DepthwiseConv2dNative shape function and then checks
// the args.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"

namespace weir {
namespace {

// Runs `base_op`'s shape function on the fused node (the base op's inputs come first and its
// attrs are a subset of the fused op's), then checks that every arg is a vector as long as the
// output's channel dimension (for BiasAdd; FusedBatchNorm's four args have the same size).
ShapeFn FusedShapeFn(const OpRegistry* registry, std::string base_op) {
  return [registry, base_op](ShapeContext* ctx) -> absl::Status {
    std::vector<std::string> fused_ops;
    if (auto s = ctx->GetAttr("fused_ops", &fused_ops); !s.ok()) return s;
    if (fused_ops.empty()) {
      return absl::InvalidArgumentError("fused_ops is empty, expected at least one fused op");
    }
    std::string filter_format = "HWIO";
    if (ctx->attrs().contains("filter_format")) {
      if (auto s = ctx->GetAttr("filter_format", &filter_format); !s.ok()) return s;
    }
    if (filter_format != "HWIO") {
      return absl::UnimplementedError(
          absl::StrCat("filter_format ", filter_format, " is not supported, expected HWIO"));
    }
    const OpSpec* base = registry->Find(base_op);
    if (base == nullptr || !base->shape_fn()) {
      return absl::InternalError(absl::StrCat("base op ", base_op, " has no shape function"));
    }
    if (auto s = base->shape_fn()(ctx); !s.ok()) return s;
    const PartialShape& out = ctx->outputs()[0];
    int64_t channels = PartialShape::kUnknownDim;
    if (out.known_rank() && out.rank() >= 1) {
      std::string data_format = "NHWC";
      if (ctx->attrs().contains("data_format")) {
        if (auto s = ctx->GetAttr("data_format", &data_format); !s.ok()) return s;
      }
      channels = data_format == "NCHW" ? out.dim(1) : out.dim(out.rank() - 1);
    }
    for (int i = 2; i < ctx->num_inputs(); ++i) {
      if (auto s = ctx->WithRank(i, 1); !s.ok()) return s;
      const PartialShape& arg = ctx->input(i);
      if (arg.known_rank() && arg.dim(0) != PartialShape::kUnknownDim &&
          channels != PartialShape::kUnknownDim && arg.dim(0) != channels) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " (args[", i - 2, "]) has shape ", arg.ToString(),
                         ", expected [", channels, "] (the output's channel dimension)"));
      }
    }
    return absl::OkStatus();
  };
}

// _WeirElementwiseChain: `ops`, `operands` and `acc_left` have one entry per step, each operand
// is -2 (the accumulator itself), -1 (a unary step) or an input index, and every input has the
// output's shape or one element.
absl::Status ElementwiseChainShape(ShapeContext* ctx) {
  std::vector<std::string> ops;
  std::vector<int64_t> operands, acc_left;
  if (auto s = ctx->GetAttr("ops", &ops); !s.ok()) return s;
  if (auto s = ctx->GetAttr("operands", &operands); !s.ok()) return s;
  if (auto s = ctx->GetAttr("acc_left", &acc_left); !s.ok()) return s;
  if (ops.empty() || operands.size() != ops.size() || acc_left.size() != ops.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ops, operands and acc_left must have one entry per step, found ", ops.size(), ", ",
        operands.size(), " and ", acc_left.size()));
  }
  const int64_t n = ctx->num_inputs();
  for (int64_t operand : operands) {
    if (operand < -2 || operand >= n) {
      return absl::InvalidArgumentError(absl::StrCat("operand ", operand, " is not in [-2, ", n,
                                                     ") (-2: the accumulator, -1: unary)"));
    }
  }
  const PartialShape& out = ctx->input(0);
  for (int64_t k = 1; k < n; ++k) {
    const PartialShape& in = ctx->input(static_cast<int>(k));
    if (!in.IsFullyDefined() || !out.IsFullyDefined()) continue;
    if (in != out && in.num_elements() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("input ", k, " has shape ", in.ToString(),
                                                     ", expected ", out.ToString(),
                                                     " (the first input's) or one element"));
    }
  }
  ctx->set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

void RegisterFusedOps(OpRegistry& registry) {
  const OpRegistry* self = &registry;
  // Weir's own (TensorFlow has no such op): a chain of float elementwise ops fused for the
  // GPU after placement (compiler/passes/elementwise_chain.h). acc = inputs[0]; step s computes
  // acc = ops[s](acc) when operands[s] is -1, else ops[s](acc, b) when acc_left[s] is 1 and
  // ops[s](b, acc) when 0, with b = acc for operand -2 and inputs[operands[s]] otherwise (an
  // input of one element broadcasts); the output is the final acc.
  registry.Register(OpSpec("_WeirElementwiseChain")
                        .Input("inputs: N * T")
                        .Output("output: T")
                        .Attr("T: {float}")
                        .Attr("N: int >= 1")
                        .Attr("ops: list(string)")
                        .Attr("operands: list(int)")
                        .Attr("acc_left: list(int)")
                        .SetShapeFn(ElementwiseChainShape));
  registry.Register(OpSpec("_FusedMatMul")
                        .Input("a: T")
                        .Input("b: T")
                        .Input("args: num_args * T")
                        .Output("product: T")
                        .Attr("transpose_a: bool = false")
                        .Attr("transpose_b: bool = false")
                        .Attr("T: {bfloat16, half, float}")
                        .Attr("num_args: int >= 0")
                        .Attr("fused_ops: list(string) = []")
                        .Attr("epsilon: float = 0.0001")
                        .Attr("leakyrelu_alpha: float = 0.2")
                        .SetShapeFn(FusedShapeFn(self, "MatMul")));
  // TensorFlow's current signature: typed args plus host-memory float args (num_host_args is
  // 0 for every fusion Weir makes).
  registry.Register(OpSpec("_FusedConv2D")
                        // A list(type) attr must precede the arg that names it.
                        .Attr("TArgs: list(type)")
                        .Input("input: T")
                        .Input("filter: T")
                        .Input("args: TArgs")
                        .Input("host_args: num_host_args * float")
                        .Output("output: T")
                        .Attr("T: {half, float, double, int8, qint8}")
                        .Attr("num_args: int >= 0")
                        .Attr("num_host_args: int >= 0 = 0")
                        .Attr("strides: list(int)")
                        .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
                        .Attr("explicit_paddings: list(int) = []")
                        .Attr("data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'")
                        .Attr("filter_format: {'HWIO', 'OIHW', 'OIHW_VECT_I'} = 'HWIO'")
                        .Attr("dilations: list(int) = [1, 1, 1, 1]")
                        .Attr("use_cudnn_on_gpu: bool = true")
                        .Attr("fused_ops: list(string) = []")
                        .Attr("epsilon: float = 0.0001")
                        .Attr("leakyrelu_alpha: float = 0.2")
                        .SetShapeFn(FusedShapeFn(self, "Conv2D")));
  registry.Register(OpSpec("_FusedDepthwiseConv2dNative")
                        .Input("input: T")
                        .Input("filter: T")
                        .Input("args: num_args * T")
                        .Output("output: T")
                        .Attr("T: {half, bfloat16, float, double}")
                        .Attr("num_args: int >= 0")
                        .Attr("strides: list(int)")
                        .Attr("padding: {'SAME', 'VALID'}")
                        .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
                        .Attr("dilations: list(int) = [1, 1, 1, 1]")
                        .Attr("fused_ops: list(string) = []")
                        .Attr("epsilon: float = 0.0001")
                        .Attr("leakyrelu_alpha: float = 0.2")
                        .SetShapeFn(FusedShapeFn(self, "DepthwiseConv2dNative")));
}

}  // namespace weir
