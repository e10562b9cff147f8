// core_ops.h - Builder functions for graph plumbing ops (Placeholder, Const, Identity, NoOp).
#ifndef WEIR_BUILDER_CORE_OPS_H_
#define WEIR_BUILDER_CORE_OPS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "builder/scope.h"
#include "graph/shape.h"
#include "proto/tensor.pb.h"

namespace weir {
namespace ops {

Output Placeholder(const Scope& scope, DataType dtype, const PartialShape& shape = PartialShape());
Output PlaceholderWithDefault(const Scope& scope, const Output& input, const PartialShape& shape);
// A constant from a TensorProto (dtype and shape taken from it).
Output Const(const Scope& scope, const TensorProto& value);
Output Const(const Scope& scope, const std::vector<float>& values, const TensorShape& shape);
Output Const(const Scope& scope, const std::vector<int32_t>& values, const TensorShape& shape);
Output Const(const Scope& scope, const std::vector<int64_t>& values, const TensorShape& shape);
// DT_STRING constants (Assert messages and the like).
Output Const(const Scope& scope, const std::vector<std::string>& values, const TensorShape& shape);
Output Const(const Scope& scope, const std::string& value);  // scalar
// Braced values pick the element type: Const(s, {1.f, 2.f}, {2}) is float, {1, 2} int32.
template <typename T>
Output Const(const Scope& scope, std::initializer_list<T> values, const TensorShape& shape) {
  return Const(scope, std::vector<T>(values), shape);
}
Output Const(const Scope& scope, float value);    // scalar
// A scalar of floating-point `dtype` (float or double) holding `value`.
Output ScalarConst(const Scope& scope, DataType dtype, double value);
Output Const(const Scope& scope, int32_t value);  // scalar
Output Identity(const Scope& scope, const Output& input);
Operation NoOp(const Scope& scope);

}  // namespace ops
}  // namespace weir

#endif  // WEIR_BUILDER_CORE_OPS_H_
