// control_flow_ops.cc - TensorFlow 1.x control flow. Conditionals: Switch routes a tensor to
// one of two outputs, Merge forwards whichever input is live. Loops: Enter moves a tensor into
// a child frame, NextIteration into the next iteration, Exit back to the parent frame, and
// LoopCond marks the loop predicate; the executor gives them their meaning (executor.h). Old
// graphs' RefSwitch, RefMerge, RefEnter, RefExit and RefNextIteration mean the same.
//
// Shapes: a loop's Merge reads the back edge from NextIteration, which shape inference reaches
// after the Merge. ShapeRefiner first infers the Merge from its forward inputs and then
// repeats until the Merge agrees with the back edge (see InferShapesInOrder).
#include "absl/strings/str_cat.h"
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"

namespace weir {
namespace {

absl::Status SwitchShape(ShapeContext* ctx) {
  if (auto s = ctx->WithRank(1, 0); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("pred must be a scalar: ", s.message()));
  }
  ctx->set_output(0, ctx->input(0));
  ctx->set_output(1, ctx->input(0));
  return absl::OkStatus();
}

// The output shape is what all inputs agree on: dims that differ become unknown.
absl::Status MergeShape(ShapeContext* ctx) {
  PartialShape merged = ctx->input(0);
  for (int i = 1; i < ctx->num_inputs(); ++i) {
    const PartialShape& other = ctx->input(i);
    if (!merged.known_rank() || !other.known_rank() || merged.rank() != other.rank()) {
      merged = PartialShape::Unknown();
      break;
    }
    std::vector<int64_t> dims = merged.dims();
    for (int d = 0; d < merged.rank(); ++d) {
      if (dims[d] != other.dim(d)) dims[d] = PartialShape::kUnknownDim;
    }
    merged = PartialShape(dims);
  }
  ctx->set_output(0, merged);
  ctx->set_output(1, PartialShape::Scalar());
  return absl::OkStatus();
}

absl::Status LoopCondShape(ShapeContext* ctx) {
  if (auto s = ctx->WithRank(0, 0); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("loop condition must be a scalar: ",
                                                   s.message()));
  }
  ctx->set_output(0, PartialShape::Scalar());
  return absl::OkStatus();
}

}  // namespace

void RegisterControlFlowOps(OpRegistry& registry) {
  registry.Register(OpSpec("Switch")
                        .Input("data: T")
                        .Input("pred: bool")
                        .Output("output_false: T")
                        .Output("output_true: T")
                        .Attr("T: type")
                        .SetShapeFn(SwitchShape));
  registry.Register(OpSpec("Merge")
                        .Input("inputs: N * T")
                        .Output("output: T")
                        .Output("value_index: int32")
                        .Attr("T: type")
                        .Attr("N: int >= 1")
                        .SetShapeFn(MergeShape));
  registry.Register(OpSpec("Enter")
                        .Input("data: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("frame_name: string")
                        .Attr("is_constant: bool = false")
                        .Attr("parallel_iterations: int = 10")
                        .SetShapeFn(UnchangedShape));
  registry.Register(OpSpec("Exit")
                        .Input("data: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .SetShapeFn(UnchangedShape));
  registry.Register(OpSpec("NextIteration")
                        .Input("data: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .SetShapeFn(UnchangedShape));
  // The Ref* forms of old TensorFlow 1.x graphs (inputs and outputs Ref(T) there). Weir has no
  // reference variables, so they are the plain ops under another name: T is taken as given
  // (float or float_ref; edges compare base types), and the executor treats them like the plain
  // ops (graph/ops/control_flow_ops.h).
  registry.Register(OpSpec("RefSwitch")
                        .Input("data: T")
                        .Input("pred: bool")
                        .Output("output_false: T")
                        .Output("output_true: T")
                        .Attr("T: type")
                        .SetShapeFn(SwitchShape));
  registry.Register(OpSpec("RefMerge")
                        .Input("inputs: N * T")
                        .Output("output: T")
                        .Output("value_index: int32")
                        .Attr("T: type")
                        .Attr("N: int >= 1")
                        .SetShapeFn(MergeShape));
  registry.Register(OpSpec("RefEnter")
                        .Input("data: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("frame_name: string")
                        .Attr("is_constant: bool = false")
                        .Attr("parallel_iterations: int = 10")
                        .SetShapeFn(UnchangedShape));
  for (const char* op : {"RefExit", "RefNextIteration"}) {
    registry.Register(OpSpec(op)
                          .Input("data: T")
                          .Output("output: T")
                          .Attr("T: type")
                          .SetShapeFn(UnchangedShape));
  }
  registry.Register(OpSpec("LoopCond")
                        .Input("input: bool")
                        .Output("output: bool")
                        .SetShapeFn(LoopCondShape));
}

}  // namespace weir
