// core_ops.cc - Graph plumbing ops: Placeholder, Const, Identity, NoOp and the session's
// internal _Arg/_Retval.
#include "absl/strings/str_cat.h"
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"
#include "graph/types.h"

namespace weir {
namespace {

absl::Status PlaceholderShape(ShapeContext* ctx) {
  PartialShape shape;
  if (auto s = ctx->GetAttr("shape", &shape); !s.ok()) return s;
  // TensorFlow 1.x wrote unknown shapes as an empty shape attr without unknown_rank; a
  // Placeholder with "shape {}" in such old graphs means a scalar, as TensorFlow reads it now.
  ctx->set_output(0, shape);
  return absl::OkStatus();
}

absl::Status ConstShape(ShapeContext* ctx) {
  const TensorProto* value;
  if (auto s = ctx->GetAttr("value", &value); !s.ok()) return s;
  DataType dtype;
  if (auto s = ctx->GetAttr("dtype", &dtype); !s.ok()) return s;
  if (value->dtype() != dtype) {
    return absl::InvalidArgumentError(absl::StrCat("value has dtype ", DataTypeString(value->dtype()),
                                                   ", expected ", DataTypeString(dtype),
                                                   " (attr 'dtype')"));
  }
  PartialShape shape = PartialShape::FromProto(value->tensor_shape());
  if (!shape.IsFullyDefined()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value has shape ", shape.ToString(), ", expected a fully defined shape"));
  }
  ctx->set_output(0, shape);
  return absl::OkStatus();
}

absl::Status PlaceholderWithDefaultShape(ShapeContext* ctx) {
  PartialShape shape;
  if (auto s = ctx->GetAttr("shape", &shape); !s.ok()) return s;
  if (!shape.IsCompatibleWith(ctx->input(0))) {
    return absl::InvalidArgumentError(absl::StrCat("input 0 has shape ", ctx->input(0).ToString(),
                                                   ", expected ", shape.ToString(),
                                                   " (attr 'shape')"));
  }
  ctx->set_output(0, shape);
  return absl::OkStatus();
}

}  // namespace

void RegisterCoreOps(OpRegistry& registry) {
  registry.Register(OpSpec("Placeholder")
                        .Output("output: dtype")
                        .Attr("dtype: type")
                        .Attr("shape: shape = ?")
                        .SetShapeFn(PlaceholderShape));
  registry.Register(OpSpec("PlaceholderWithDefault")
                        .Input("input: dtype")
                        .Output("output: dtype")
                        .Attr("dtype: type")
                        .Attr("shape: shape")
                        .SetShapeFn(PlaceholderWithDefaultShape));
  registry.Register(OpSpec("Const")
                        .Output("output: dtype")
                        .Attr("value: tensor")
                        .Attr("dtype: type")
                        .SetShapeFn(ConstShape));
  registry.Register(OpSpec("Identity")
                        .Input("input: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .SetShapeFn(UnchangedShape));
  // Old TensorFlow 1.x graphs read ref variables through RefIdentity (Ref(T) in and out there);
  // without reference variables in Weir it is Identity.
  registry.Register(OpSpec("RefIdentity")
                        .Input("input: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .SetShapeFn(UnchangedShape));
  registry.Register(OpSpec("NoOp").SetShapeFn(UnknownShape));
  // The session rewrites feeds into _Arg and fetches into _Retval (as TensorFlow does), so the
  // executor reads and writes the step's call frame through ordinary kernels.
  registry.Register(OpSpec("_Arg")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("index: int >= 0")
                        .Attr("_output_shapes: list(shape) = []")
                        .SetShapeFn([](ShapeContext* ctx) {
                          // The session records the fed tensor's shape in _output_shapes.
                          auto it = ctx->attrs().find("_output_shapes");
                          if (it != ctx->attrs().end() && it->second.list().shape_size() == 1) {
                            ctx->set_output(0, PartialShape::FromProto(it->second.list().shape(0)));
                          } else {
                            ctx->set_output(0, PartialShape::Unknown());
                          }
                          return absl::OkStatus();
                        })
                        .SetIsStateful());
  registry.Register(OpSpec("_Retval")
                        .Input("input: T")
                        .Attr("T: type")
                        .Attr("index: int >= 0")
                        .SetIsStateful());
}

}  // namespace weir
