// math_extra_kernels.cc - CPU kernels for comparisons and logical ops, Select and SelectV2,
// the extra unary ops (Floor, Ceil, Round, Abs, Sign, Erf, Reciprocal, Log1p, Expm1, Sin,
// Cos), the extra binary ops (Pow, SquaredDifference, FloorDiv, FloorMod, Div, DivNoNan), the
// identity-likes (StopGradient, PreventGradient, Snapshot, IdentityN) and Rank and Size.
//
// Elementwise ops reuse the templates of kernels/cpu/elementwise_util.h with TensorFlow's
// semantics in the functors: Round rounds half to even, Sign(0) is 0, integer Div truncates,
// FloorDiv and FloorMod round toward negative infinity, and integer division by zero or
// integer Pow with a negative exponent is an error instead of a crash.
#include "kernels/cpu/math_extra_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/elementwise_util.h"
#include "kernels/cpu/erf_float.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/registry.h"
#include "kernels/cpu/typed_row.h"

namespace weir {
namespace {

// ---------------------------------------------------------------------------------------------
// Comparisons and logical ops.

struct EqualOp {
  static constexpr bool kIncompatibleResult = false;
  template <typename T>
  bool operator()(T a, T b) const {
    return a == b;
  }
};
struct NotEqualOp {
  static constexpr bool kIncompatibleResult = true;
  template <typename T>
  bool operator()(T a, T b) const {
    return a != b;
  }
};
struct LessOp {
  template <typename T>
  bool operator()(T a, T b) const {
    return a < b;
  }
};
struct LessEqualOp {
  template <typename T>
  bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct GreaterOp {
  template <typename T>
  bool operator()(T a, T b) const {
    return a > b;
  }
};
struct GreaterEqualOp {
  template <typename T>
  bool operator()(T a, T b) const {
    return a >= b;
  }
};
struct LogicalAndOp {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct LogicalOrOp {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct LogicalNotOp {
  bool operator()(bool a) const { return !a; }
};

// Equal and NotEqual with incompatible_shape_error=false answer shapes that do not broadcast
// with a scalar (false for Equal, true for NotEqual), as TensorFlow does.
template <typename Op, typename T>
class EqualityKernel : public BinaryKernel<Op, T> {
 public:
  explicit EqualityKernel(const KernelConstruction& c) : BinaryKernel<Op, T>(c) {
    c.GetAttr("incompatible_shape_error", &incompatible_shape_error_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    if (!incompatible_shape_error_ &&
        !BroadcastShapes(ctx->input(0).shape(), ctx->input(1).shape()).ok()) {
      absl::StatusOr<Tensor*> z = ctx->allocate_output(0, DT_BOOL, TensorShape{});
      if (!z.ok()) return z.status();
      (*z)->data<bool>()[0] = Op::kIncompatibleResult;
      return absl::OkStatus();
    }
    return BinaryKernel<Op, T>::Compute(ctx);
  }

 private:
  bool incompatible_shape_error_ = true;
};

// ---------------------------------------------------------------------------------------------
// Unary ops.

struct FloorOp {
  template <typename T>
  T operator()(T x) const {
    return std::floor(x);
  }
};
struct CeilOp {
  template <typename T>
  T operator()(T x) const {
    return std::ceil(x);
  }
};
// Rounds half to even (banker's rounding), independent of the FPU rounding mode; integers are
// unchanged.
struct RoundOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return x;
    } else {
      const T floor = std::floor(x);
      const T diff = x - floor;
      if (diff < T(0.5)) return floor;
      if (diff > T(0.5)) return floor + T(1);
      return std::fmod(floor, T(2)) == T(0) ? floor : floor + T(1);
    }
  }
};
// |x|; the most negative integer stays itself (two's complement wrap), as in TensorFlow.
struct AbsOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return x < 0 ? Wrapping(T(0), x, [](auto a, auto b) { return a - b; }) : x;
    } else {
      return std::abs(x);
    }
  }
};
// -1, 0 or 1; NaN stays NaN (TensorFlow 2's behaviour; TensorFlow 1 gave 0).
struct SignOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    return static_cast<T>((x > T(0)) - (x < T(0)));
  }
};
// float64 Erf; float32 Erf is a FloatArrayKernel (registered below).
struct ErfOp {
  static constexpr double kCost = 8 * kElementwiseCost;  // scalar std::erf
  template <typename T>
  T operator()(T x) const {
    return std::erf(x);
  }
};
struct ReciprocalOp {
  template <typename T>
  T operator()(T x) const {
    return T(1) / x;
  }
};
struct Log1pOp {
  template <typename T>
  T operator()(T x) const {
    return std::log1p(x);
  }
};
struct Expm1Op {
  template <typename T>
  T operator()(T x) const {
    return std::expm1(x);
  }
};
struct SinOp {
  template <typename T>
  T operator()(T x) const {
    return std::sin(x);
  }
};
struct CosOp {
  template <typename T>
  T operator()(T x) const {
    return std::cos(x);
  }
};

// ---------------------------------------------------------------------------------------------
// Binary ops.

template <typename T>
T WrappingNeg(T x) {
  return Wrapping(T(0), x, [](auto a, auto b) { return a - b; });
}

// Integer division ops reject a zero divisor before computing (CheckedBinaryKernel).
struct IntegerDivisorCheck {
  template <typename T>
  static bool Rejects(T y) {
    return y == 0;
  }
  static constexpr char kRejection[] = "integer division by zero";
};

// x^y. Integer powers multiply by repeated squaring and wrap on overflow; a negative integer
// exponent is rejected before computing.
struct PowOp {
  template <typename T>
  static bool Rejects(T y) {
    return y < 0;
  }
  static constexpr char kRejection[] = "integers to negative integer powers are not allowed";

  template <typename T>
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      U base = static_cast<U>(x);
      U result = 1;
      for (T e = y; e > 0; e >>= 1) {
        if (e & 1) result = static_cast<U>(result * base);
        base = static_cast<U>(base * base);
      }
      return static_cast<T>(result);
    } else {
      return std::pow(x, y);
    }
  }
};
struct SquaredDifferenceOp {
  template <typename T>
  T operator()(T x, T y) const {
    const T d = Wrapping(x, y, [](auto a, auto b) { return a - b; });
    return Wrapping(d, d, [](auto a, auto b) { return a * b; });
  }
};
// Integer Div truncates toward zero (C semantics), as TensorFlow's Div; floats divide.
struct DivOp : IntegerDivisorCheck {
  template <typename T>
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      if (y == T(-1)) return WrappingNeg(x);  // avoids the trap on lowest / -1
    }
    return x / y;
  }
};
struct FloorDivOp : IntegerDivisorCheck {
  template <typename T>
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      if (y == T(-1)) return WrappingNeg(x);
      const T q = x / y;
      return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
    } else {
      return std::floor(x / y);
    }
  }
};
// The remainder of FloorDiv: its sign follows the divisor.
struct FloorModOp : IntegerDivisorCheck {
  template <typename T>
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      if (y == T(-1)) return 0;
      const T r = x % y;
      return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
    } else {
      const T r = std::fmod(x, y);
      return (r != T(0) && ((r < T(0)) != (y < T(0)))) ? r + y : r;
    }
  }
};
// x / y, or 0 where y is 0 (even for x NaN or infinite).
struct DivNoNanOp {
  template <typename T>
  T operator()(T x, T y) const {
    return y == T(0) ? T(0) : x / y;
  }
};

// A binary kernel whose integer instantiations first scan y for values Op::Rejects (a zero
// divisor, a negative exponent) and fail naming the first one, since computing them would
// trap or be undefined.
template <typename Op, typename T>
class CheckedBinaryKernel : public BinaryKernel<Op, T> {
 public:
  using BinaryKernel<Op, T>::BinaryKernel;

  absl::Status Compute(KernelContext* ctx) override {
    if constexpr (std::is_integral_v<T>) {
      const Tensor& y = ctx->input(1);
      const T* values = y.data<T>();
      for (int64_t i = 0; i < y.num_elements(); ++i) {
        if (Op::Rejects(values[i])) {
          return absl::InvalidArgumentError(
              absl::StrCat(Op::kRejection, ": input 1 (y) holds ", values[i], " at index ", i));
        }
      }
    }
    return BinaryKernel<Op, T>::Compute(ctx);
  }
};

// ---------------------------------------------------------------------------------------------
// Select and SelectV2.

// Select: a scalar condition picks t or e whole; a vector condition picks rows of t or e by
// their first index; otherwise condition, t and e have one shape and pick elementwise.
template <typename Unused, typename T>
class SelectKernel : public OpKernel {
 public:
  explicit SelectKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    if (t.shape() != e.shape()) {
      return absl::InvalidArgumentError(absl::StrCat("input 2 (e) has shape ", e.shape().ToString(),
                                                     ", expected ", t.shape().ToString(),
                                                     " (as input 1)"));
    }
    if (cond.rank() == 0) {
      ctx->set_output(0, cond.data<bool>()[0] ? t : e);
      return absl::OkStatus();
    }
    const bool by_row = cond.rank() == 1 && t.rank() > 1;
    if (by_row ? cond.dim(0) != t.dim(0) : cond.shape() != t.shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 (condition) has shape ", cond.shape().ToString(), ", expected ",
                       by_row ? absl::StrCat("[", t.dim(0), "]") : t.shape().ToString(),
                       " (a scalar, a vector of the first dimension or the shape of input 1)"));
    }
    absl::StatusOr<Tensor*> output = ctx->allocate_output(0, t.dtype(), t.shape());
    if (!output.ok()) return output.status();
    const bool* c = cond.data<bool>();
    const T* a = t.data<T>();
    const T* b = e.data<T>();
    T* out = (*output)->data<T>();
    const int64_t rows = cond.num_elements();
    const int64_t row_size = rows == 0 ? 0 : t.num_elements() / rows;
    for (int64_t r = 0; r < rows; ++r) {
      const T* src = (c[r] ? a : b) + r * row_size;
      std::copy(src, src + row_size, out + r * row_size);
    }
    return absl::OkStatus();
  }
};

// Element strides of `in` over the dims of the broadcast shape `out` (0 where broadcast).
std::vector<int64_t> BroadcastStrides(const TensorShape& in, const TensorShape& out) {
  std::vector<int64_t> strides(out.rank(), 0);
  int64_t stride = 1;
  for (int i = in.rank() - 1; i >= 0; --i) {
    const int o = out.rank() - in.rank() + i;
    strides[o] = in.dim(i) == 1 ? 0 : stride;
    stride *= in.dim(i);
  }
  return strides;
}

// SelectV2: condition, t and e broadcast together like NumPy's where.
template <typename Unused, typename T>
class SelectV2Kernel : public OpKernel {
 public:
  explicit SelectV2Kernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    absl::StatusOr<TensorShape> data = BroadcastShapes(t.shape(), e.shape());
    absl::StatusOr<TensorShape> shape =
        data.ok() ? BroadcastShapes(cond.shape(), *data) : data.status();
    if (!shape.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("incompatible shapes: input 0 has shape ",
                                                     cond.shape().ToString(),
                                                     ", input 1 has shape ", t.shape().ToString(),
                                                     ", input 2 has shape ", e.shape().ToString()));
    }
    absl::StatusOr<Tensor*> output = ctx->allocate_output(0, t.dtype(), *shape);
    if (!output.ok()) return output.status();
    const int64_t n = (*output)->num_elements();
    if (n == 0) return absl::OkStatus();
    const int rank = shape->rank();
    const std::vector<int64_t> cs = BroadcastStrides(cond.shape(), *shape);
    const std::vector<int64_t> ts = BroadcastStrides(t.shape(), *shape);
    const std::vector<int64_t> es = BroadcastStrides(e.shape(), *shape);
    const bool* c = cond.data<bool>();
    const T* a = t.data<T>();
    const T* b = e.data<T>();
    T* out = (*output)->data<T>();
    // Odometer over the output, advancing each input's offset by its stride.
    std::vector<int64_t> index(rank, 0);
    int64_t co = 0, to = 0, eo = 0;
    for (int64_t i = 0; i < n; ++i) {
      out[i] = c[co] ? a[to] : b[eo];
      for (int d = rank - 1; d >= 0; --d) {
        co += cs[d];
        to += ts[d];
        eo += es[d];
        if (++index[d] < shape->dim(d)) break;
        co -= cs[d] * shape->dim(d);
        to -= ts[d] * shape->dim(d);
        eo -= es[d] * shape->dim(d);
        index[d] = 0;
      }
    }
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// Identity-likes, Rank and Size.

// Output i is input i (shared, not copied): StopGradient, PreventGradient, Snapshot and
// IdentityN only matter to gradients and graph rewrites.
class ForwardAllKernel : public OpKernel {
 public:
  explicit ForwardAllKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    for (int i = 0; i < ctx->num_inputs(); ++i) ctx->set_output(i, ctx->input(i));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class RankKernel : public OpKernel {
 public:
  explicit RankKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, DT_INT32, TensorShape{});
    if (!out.ok()) return out.status();
    (*out)->data<int32_t>()[0] = ctx->input(0).rank();
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class SizeKernel : public OpKernel {
 public:
  explicit SizeKernel(const KernelConstruction& c) : OpKernel(c), out_type_(c.output_type(0)) {}
  absl::Status Compute(KernelContext* ctx) override {
    const int64_t size = ctx->input(0).num_elements();
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, out_type_, TensorShape{});
    if (!out.ok()) return out.status();
    if (out_type_ == DT_INT32) {
      if (size > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 0 has ", size, " elements, more than out_type int32 can represent"));
      }
      (*out)->data<int32_t>()[0] = static_cast<int32_t>(size);
    } else {
      (*out)->data<int64_t>()[0] = size;
    }
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  DataType out_type_;
};

KernelDef AnyTypeRow(const char* op, KernelFactory factory) {
  return KernelDef{op, kDeviceCpu, "", {}, std::move(factory)};
}


}  // namespace

void RegisterCpuMathExtraKernels(KernelRegistry& registry) {
  // Comparisons and logical ops.
  registry.Register(
      TypedRow<EqualityKernel, EqualOp, float, double, int32_t, int64_t, uint8_t, bool>("Equal"));
  registry.Register(
      TypedRow<EqualityKernel, NotEqualOp, float, double, int32_t, int64_t, uint8_t, bool>(
          "NotEqual"));
  registry.Register(TypedRow<BinaryKernel, LessOp, float, double, int32_t, int64_t>("Less"));
  registry.Register(
      TypedRow<BinaryKernel, LessEqualOp, float, double, int32_t, int64_t>("LessEqual"));
  registry.Register(TypedRow<BinaryKernel, GreaterOp, float, double, int32_t, int64_t>("Greater"));
  registry.Register(
      TypedRow<BinaryKernel, GreaterEqualOp, float, double, int32_t, int64_t>("GreaterEqual"));
  registry.Register(AnyTypeRow("LogicalAnd", MakeFactory<BinaryKernel<LogicalAndOp, bool>>()));
  registry.Register(AnyTypeRow("LogicalOr", MakeFactory<BinaryKernel<LogicalOrOp, bool>>()));
  registry.Register(AnyTypeRow("LogicalNot", MakeFactory<UnaryKernel<LogicalNotOp, bool>>()));

  registry.Register(TypedRow<SelectKernel, void, float, double, int32_t, int64_t, bool>("Select"));
  registry.Register(
      TypedRow<SelectV2Kernel, void, float, double, int32_t, int64_t, bool>("SelectV2"));

  // Unary ops.
  registry.Register(TypedRow<UnaryKernel, FloorOp, float, double>("Floor"));
  registry.Register(TypedRow<UnaryKernel, CeilOp, float, double>("Ceil"));
  registry.Register(TypedRow<UnaryKernel, RoundOp, float, double, int32_t, int64_t>("Round"));
  registry.Register(TypedRow<UnaryKernel, AbsOp, float, double, int32_t, int64_t>("Abs"));
  registry.Register(TypedRow<UnaryKernel, SignOp, float, double, int32_t, int64_t>("Sign"));
  // float32 Erf: TensorFlow's rational approximation, vectorized (kernels/cpu/erf_float.h).
  registry.Register({"Erf", kDeviceCpu, "T", {DT_FLOAT}, FloatArrayKernelFactory(ErfFloatArray)});
  registry.Register(TypedRow<UnaryKernel, ErfOp, double>("Erf"));
  // Integer Reciprocal would divide by zero on 0; TensorFlow's CPU kernel is float-only too.
  registry.Register(TypedRow<UnaryKernel, ReciprocalOp, float, double>("Reciprocal"));
  registry.Register(TypedRow<UnaryKernel, Log1pOp, float, double>("Log1p"));
  registry.Register(TypedRow<UnaryKernel, Expm1Op, float, double>("Expm1"));
  registry.Register(TypedRow<UnaryKernel, SinOp, float, double>("Sin"));
  registry.Register(TypedRow<UnaryKernel, CosOp, float, double>("Cos"));

  // Binary ops.
  registry.Register(TypedRow<CheckedBinaryKernel, PowOp, float, double, int32_t, int64_t>("Pow"));
  registry.Register(TypedRow<BinaryKernel, SquaredDifferenceOp, float, double, int32_t, int64_t>(
      "SquaredDifference"));
  registry.Register(
      TypedRow<CheckedBinaryKernel, FloorDivOp, float, double, int32_t, int64_t>("FloorDiv"));
  registry.Register(
      TypedRow<CheckedBinaryKernel, FloorModOp, float, double, int32_t, int64_t>("FloorMod"));
  registry.Register(TypedRow<CheckedBinaryKernel, DivOp, float, double, int32_t, int64_t>("Div"));
  registry.Register(TypedRow<BinaryKernel, DivNoNanOp, float, double>("DivNoNan"));

  // Identity-likes, Rank and Size: any dtype.
  for (const char* op : {"StopGradient", "PreventGradient", "Snapshot", "IdentityN"}) {
    KernelDef row = AnyTypeRow(op, MakeFactory<ForwardAllKernel>());
    row.handles_strings = true;  // forwards tensors without touching their elements
    registry.Register(std::move(row));
  }
  registry.Register(AnyTypeRow("Rank", MakeFactory<RankKernel>()));
  registry.Register(AnyTypeRow("Size", MakeFactory<SizeKernel>()));

  RegisterCpuMathExtraReductionKernels(registry);
}

}  // namespace weir
