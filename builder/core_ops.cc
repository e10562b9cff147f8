// core_ops.cc - Builder functions for graph plumbing ops.
#include "builder/core_ops.h"

#include <cstring>

namespace weir {
namespace ops {
namespace {

template <typename T>
TensorProto MakeTensorProto(DataType dtype, const std::vector<T>& values, const TensorShape& shape) {
  TensorProto proto;
  proto.set_dtype(dtype);
  shape.ToProto(proto.mutable_tensor_shape());
  proto.set_tensor_content(values.data(), values.size() * sizeof(T));
  return proto;
}

}  // namespace

Output Placeholder(const Scope& scope, DataType dtype, const PartialShape& shape) {
  return NodeBuilder(scope, "Placeholder").Attr("dtype", dtype).Attr("shape", shape).Finalize();
}

Output PlaceholderWithDefault(const Scope& scope, const Output& input, const PartialShape& shape) {
  NodeBuilder b(scope, "PlaceholderWithDefault");
  b.Input(input).Attr("shape", shape);
  if (input.ok()) b.Attr("dtype", input.dtype());
  return b.Finalize();
}

Output Const(const Scope& scope, const TensorProto& value) {
  return NodeBuilder(scope, "Const").Attr("dtype", value.dtype()).Attr("value", value).Finalize();
}

Output Const(const Scope& scope, const std::vector<float>& values, const TensorShape& shape) {
  return Const(scope, MakeTensorProto(DT_FLOAT, values, shape));
}

Output Const(const Scope& scope, const std::vector<int32_t>& values, const TensorShape& shape) {
  return Const(scope, MakeTensorProto(DT_INT32, values, shape));
}

Output Const(const Scope& scope, const std::vector<int64_t>& values, const TensorShape& shape) {
  return Const(scope, MakeTensorProto(DT_INT64, values, shape));
}

Output Const(const Scope& scope, float value) {
  return Const(scope, std::vector<float>{value}, TensorShape{});
}

Output Const(const Scope& scope, int32_t value) {
  return Const(scope, std::vector<int32_t>{value}, TensorShape{});
}

Output Const(const Scope& scope, const std::vector<std::string>& values, const TensorShape& shape) {
  TensorProto proto;
  proto.set_dtype(DT_STRING);
  shape.ToProto(proto.mutable_tensor_shape());
  for (const std::string& v : values) proto.add_string_val(v);
  return Const(scope, proto);
}

Output Const(const Scope& scope, const std::string& value) {
  return Const(scope, std::vector<std::string>{value}, TensorShape{});
}

Output ScalarConst(const Scope& scope, DataType dtype, double value) {
  TensorProto proto;
  proto.set_dtype(dtype);
  proto.mutable_tensor_shape();
  if (dtype == DT_DOUBLE) {
    proto.add_double_val(value);
  } else {
    proto.add_float_val(static_cast<float>(value));
  }
  return Const(scope, proto);
}

Output Identity(const Scope& scope, const Output& input) {
  NodeBuilder b(scope, "Identity");
  b.Input(input);
  if (input.ok()) b.Attr("T", input.dtype());
  return b.Finalize();
}

Operation NoOp(const Scope& scope) { return NodeBuilder(scope, "NoOp").Finalize(); }

}  // namespace ops
}  // namespace weir
