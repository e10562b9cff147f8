// elementwise_util.h - Kernel templates for elementwise ops: UnaryKernel<Op, T> applies a
// functor to every element, BinaryKernel<Op, T> applies a binary functor with NumPy
// broadcasting. The output's element type is what the functor returns (bool for comparisons).
//
// No library covers plain elementwise loops on the CPU, so these are loops the compiler
// vectorizes (the equal-shape and scalar cases run as a single contiguous loop; every
// innermost loop is a WEIR_VECTORIZED function, AVX2 where the CPU has it). Large outputs are
// split over the device's intra-op threads (kernels/cpu/parallel_for.h): the contiguous loops
// by elements, broadcasts by rows of the output's innermost merged dim.
#ifndef WEIR_KERNELS_CPU_ELEMENTWISE_UTIL_H_
#define WEIR_KERNELS_CPU_ELEMENTWISE_UTIL_H_

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/simd.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace weir {

// Elementwise kernels whose output is small enough run inline on the scheduling thread.
constexpr int64_t kCheapElementCount = 16384;

inline bool IsSmallOutput(const KernelConstruction& c) {
  const PartialShape& shape = c.output_shape(0);
  return shape.IsFullyDefined() && shape.num_elements() <= kCheapElementCount;
}

// Signed integer arithmetic wraps (as in TensorFlow) instead of being undefined on overflow.
template <typename T, typename F>
T Wrapping(T a, T b, F f) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(f(static_cast<U>(a), static_cast<U>(b)));
  } else {
    return f(a, b);
  }
}

// An op's cost per element for ParallelFor: kElementwiseCost unless the functor says
// otherwise with `static constexpr double kCost` (scalar std::exp and friends).
template <typename Op, typename = void>
struct ElementCost {
  static constexpr double value = kElementwiseCost;
};
template <typename Op>
struct ElementCost<Op, std::void_t<decltype(Op::kCost)>> {
  static constexpr double value = Op::kCost;
};

// The innermost loops, each compiled for AVX2 and the baseline (kernels/cpu/simd.h).
template <typename Op, typename T, typename Out>
WEIR_VECTORIZED void UnaryLoop(const T* in, Out* out, int64_t n) {
  Op op;
  for (int64_t i = 0; i < n; ++i) out[i] = op(in[i]);
}
template <typename Op, typename T, typename Out>
WEIR_VECTORIZED void BinaryLoop(const T* x, const T* y, Out* out, int64_t n) {
  Op op;
  for (int64_t i = 0; i < n; ++i) out[i] = op(x[i], y[i]);
}
// y broadcast along the loop: out[i] = op(x[i], y).
template <typename Op, typename T, typename Out>
WEIR_VECTORIZED void BinaryLoopScalarY(const T* x, T y, Out* out, int64_t n) {
  Op op;
  for (int64_t i = 0; i < n; ++i) out[i] = op(x[i], y);
}
// x broadcast along the loop: out[i] = op(x, y[i]).
template <typename Op, typename T, typename Out>
WEIR_VECTORIZED void BinaryLoopScalarX(T x, const T* y, Out* out, int64_t n) {
  Op op;
  for (int64_t i = 0; i < n; ++i) out[i] = op(x, y[i]);
}

template <typename Op, typename T>
class UnaryKernel : public OpKernel {
 public:
  using Out = decltype(Op()(T()));

  explicit UnaryKernel(const KernelConstruction& c) : OpKernel(c), expensive_(!IsSmallOutput(c)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    // In place when x dies here (out[k] depends on in[k] only).
    absl::StatusOr<Tensor*> y =
        ctx->forward_input_or_allocate_output(0, 0, DataTypeToEnum<Out>::value, x.shape());
    if (!y.ok()) return y.status();
    const T* in = x.data<T>();
    Out* out = (*y)->data<Out>();
    ParallelFor(ctx->device(), x.num_elements(), ElementCost<Op>::value,
                [&](int64_t begin, int64_t end) {
                  UnaryLoop<Op, T, Out>(in + begin, out + begin, end - begin);
                });
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return expensive_; }

 private:
  bool expensive_;
};

// The iteration space of a broadcast: the output's dims with size-1 dims dropped and adjacent
// dims merged where neither input changes between broadcasting and not, plus each input's
// element stride per merged dim (0 where it is broadcast).
struct BroadcastPlan {
  std::vector<int64_t> dims;
  std::vector<int64_t> x_strides;
  std::vector<int64_t> y_strides;
};

inline BroadcastPlan MakeBroadcastPlan(const TensorShape& x, const TensorShape& y,
                                       const TensorShape& out) {
  const int rank = out.rank();
  std::vector<int64_t> dims;
  std::vector<bool> x_bcast, y_bcast;
  for (int i = 0; i < rank; ++i) {
    const int64_t d = out.dim(i);
    if (d == 1) continue;
    const int ix = x.rank() - rank + i;
    const int iy = y.rank() - rank + i;
    const bool xb = ix < 0 || x.dim(ix) == 1;
    const bool yb = iy < 0 || y.dim(iy) == 1;
    if (!dims.empty() && x_bcast.back() == xb && y_bcast.back() == yb) {
      dims.back() *= d;
    } else {
      dims.push_back(d);
      x_bcast.push_back(xb);
      y_bcast.push_back(yb);
    }
  }
  BroadcastPlan plan;
  plan.dims = dims;
  plan.x_strides.resize(dims.size());
  plan.y_strides.resize(dims.size());
  int64_t xs = 1, ys = 1;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    plan.x_strides[i] = x_bcast[i] ? 0 : xs;
    plan.y_strides[i] = y_bcast[i] ? 0 : ys;
    if (!x_bcast[i]) xs *= dims[i];
    if (!y_bcast[i]) ys *= dims[i];
  }
  return plan;
}

// Rows [row_begin, row_end) of a broadcast, a row being one run of the plan's innermost dim.
template <typename Op, typename T, typename Out>
void BroadcastRows(const BroadcastPlan& plan, const T* x, const T* y, Out* out,
                   int64_t row_begin, int64_t row_end) {
  const int rank = static_cast<int>(plan.dims.size());
  const int64_t inner = plan.dims[rank - 1];
  const int64_t sx = plan.x_strides[rank - 1];
  const int64_t sy = plan.y_strides[rank - 1];
  // Odometer over the outer dims, started at row_begin; the innermost dim runs as a tight loop
  // specialised on which input (if any) is broadcast along it.
  absl::InlinedVector<int64_t, 8> index(rank, 0);
  int64_t xo = 0, yo = 0;
  for (int64_t d = rank - 2, rest = row_begin; d >= 0; --d) {
    index[d] = rest % plan.dims[d];
    rest /= plan.dims[d];
    xo += index[d] * plan.x_strides[d];
    yo += index[d] * plan.y_strides[d];
  }
  out += row_begin * inner;
  for (int64_t o = row_begin; o < row_end; ++o) {
    const T* xp = x + xo;
    const T* yp = y + yo;
    if (sx == 1 && sy == 1) {
      BinaryLoop<Op, T, Out>(xp, yp, out, inner);
    } else if (sx == 1) {
      BinaryLoopScalarY<Op, T, Out>(xp, yp[0], out, inner);
    } else {
      BinaryLoopScalarX<Op, T, Out>(xp[0], yp, out, inner);
    }
    out += inner;
    for (int d = rank - 2; d >= 0; --d) {
      xo += plan.x_strides[d];
      yo += plan.y_strides[d];
      if (++index[d] < plan.dims[d]) break;
      xo -= plan.x_strides[d] * plan.dims[d];
      yo -= plan.y_strides[d] * plan.dims[d];
      index[d] = 0;
    }
  }
}

template <typename Op, typename T, typename Out>
void BroadcastLoop(const Device* device, const BroadcastPlan& plan, const T* x, const T* y,
                   Out* out) {
  const int rank = static_cast<int>(plan.dims.size());
  if (rank == 0) {
    out[0] = Op()(x[0], y[0]);
    return;
  }
  const int64_t inner = plan.dims[rank - 1];
  int64_t outer = 1;
  for (int i = 0; i < rank - 1; ++i) outer *= plan.dims[i];
  if (outer == 1) {
    // One row (a scalar operand, or a row broadcast along nothing): split the row itself.
    ParallelFor(device, inner, ElementCost<Op>::value, [&](int64_t begin, int64_t end) {
      const T* xp = plan.x_strides[0] == 0 ? x : x + begin;
      const T* yp = plan.y_strides[0] == 0 ? y : y + begin;
      if (plan.x_strides[0] != 0 && plan.y_strides[0] != 0) {
        BinaryLoop<Op, T, Out>(xp, yp, out + begin, end - begin);
      } else if (plan.x_strides[0] != 0) {
        BinaryLoopScalarY<Op, T, Out>(xp, yp[0], out + begin, end - begin);
      } else {
        BinaryLoopScalarX<Op, T, Out>(xp[0], yp, out + begin, end - begin);
      }
    });
    return;
  }
  // Whole rows per thread; chunks of rows a multiple of 16 floats long, whatever the row.
  const int64_t grain = inner % kCacheLineFloats == 0 ? 1 : kCacheLineFloats;
  ParallelFor(device, outer, ElementCost<Op>::value * static_cast<double>(inner), grain,
              [&](int64_t begin, int64_t end) {
                BroadcastRows<Op, T, Out>(plan, x, y, out, begin, end);
              });
}

template <typename Op, typename T>
class BinaryKernel : public OpKernel {
 public:
  using Out = decltype(Op()(T(), T()));

  explicit BinaryKernel(const KernelConstruction& c) : OpKernel(c), expensive_(!IsSmallOutput(c)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    constexpr DataType kOutType = DataTypeToEnum<Out>::value;
    if (x.shape() == y.shape()) {
      // In place over whichever input dies here.
      absl::StatusOr<Tensor*> z = x.RefCountIsOne() || !y.RefCountIsOne()
                                      ? ctx->forward_input_or_allocate_output(0, 0, kOutType,
                                                                              x.shape())
                                      : ctx->forward_input_or_allocate_output(1, 0, kOutType,
                                                                              y.shape());
      if (!z.ok()) return z.status();
      const T* xp = x.data<T>();
      const T* yp = y.data<T>();
      Out* zp = (*z)->data<Out>();
      ParallelFor(ctx->device(), x.num_elements(), ElementCost<Op>::value,
                  [&](int64_t begin, int64_t end) {
                    BinaryLoop<Op, T, Out>(xp + begin, yp + begin, zp + begin, end - begin);
                  });
      return absl::OkStatus();
    }
    absl::StatusOr<TensorShape> shape = BroadcastShapes(x.shape(), y.shape());
    if (!shape.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("incompatible shapes: input 0 has shape ",
                                                     x.shape().ToString(), ", input 1 has shape ",
                                                     y.shape().ToString()));
    }
    // An input with the output's shape is read at the output's index: it may be overwritten.
    absl::StatusOr<Tensor*> z = x.shape() == *shape
                                    ? ctx->forward_input_or_allocate_output(0, 0, kOutType, *shape)
                                : y.shape() == *shape
                                    ? ctx->forward_input_or_allocate_output(1, 0, kOutType, *shape)
                                    : ctx->allocate_output(0, kOutType, *shape);
    if (!z.ok()) return z.status();
    if ((*z)->num_elements() == 0) return absl::OkStatus();
    BroadcastLoop<Op, T, Out>(ctx->device(), MakeBroadcastPlan(x.shape(), y.shape(), *shape),
                              x.data<T>(), y.data<T>(), (*z)->data<Out>());
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return expensive_; }

 private:
  bool expensive_;
};

// A float32 unary op computed by an array function (out[i] = f(in[i]) for i < n; in and out may
// alias) -- the vectorized Tanh, Sigmoid and Erf -- split over the intra-op threads, in place
// when x dies here.
class FloatArrayKernel : public OpKernel {
 public:
  using ArrayFunction = void (*)(const float* in, float* out, int64_t n);

  FloatArrayKernel(const KernelConstruction& c, ArrayFunction function)
      : OpKernel(c), function_(function), expensive_(!IsSmallOutput(c)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::StatusOr<Tensor*> y = ctx->forward_input_or_allocate_output(0, 0, DT_FLOAT, x.shape());
    if (!y.ok()) return y.status();
    const float* in = x.data<float>();
    float* out = (*y)->data<float>();
    ParallelFor(ctx->device(), x.num_elements(), kTranscendentalCost,
                [&](int64_t begin, int64_t end) {
                  function_(in + begin, out + begin, end - begin);
                });
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return expensive_; }

 private:
  const ArrayFunction function_;
  const bool expensive_;
};

inline KernelFactory FloatArrayKernelFactory(FloatArrayKernel::ArrayFunction function) {
  return [function](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new FloatArrayKernel(c, function));
  };
}

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ELEMENTWISE_UTIL_H_
