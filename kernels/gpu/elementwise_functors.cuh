// elementwise_functors.cuh - One device functor per elementwise op, specialized on the op
// enum so the kernels in elementwise_unary.cu / elementwise_binary.cu are written once.
//
// Accuracy: precise CUDA math (no --use_fast_math), so results stay within a few ulps of a
// float64 reference; tests hold them to 1e-5 relative.
#ifndef WEIR_KERNELS_GPU_ELEMENTWISE_FUNCTORS_CUH_
#define WEIR_KERNELS_GPU_ELEMENTWISE_FUNCTORS_CUH_

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/gpu/elementwise.h"

namespace weir {
namespace gpu {
namespace internal {

template <typename T>
inline constexpr bool kIsFloat = std::is_floating_point<T>::value;

// Which (op, type) pairs exist; the host launcher checks this before dispatching.
template <typename T>
constexpr bool UnarySupported(UnaryOp op) {
  if (kIsFloat<T>) return true;
  switch (op) {
    case UnaryOp::kNeg:
    case UnaryOp::kAbs:
    case UnaryOp::kSquare:
    case UnaryOp::kRelu:
    case UnaryOp::kRelu6:
    case UnaryOp::kSign:
    case UnaryOp::kFloor:
    case UnaryOp::kCeil:
    case UnaryOp::kRound:
      return true;
    default:
      return false;
  }
}

template <UnaryOp kOp, typename T>
struct UnaryFn {
  __device__ __forceinline__ T operator()(T x) const {
    if constexpr (kOp == UnaryOp::kNeg) {
      return -x;
    } else if constexpr (kOp == UnaryOp::kAbs) {
      // fabsf for floats: Abs(-0) is +0 and a NaN stays NaN, as std::abs on the CPU.
      if constexpr (kIsFloat<T>) return fabsf(x);
      else return x < T(0) ? -x : x;
    } else if constexpr (kOp == UnaryOp::kSquare) {
      return x * x;
    } else if constexpr (kOp == UnaryOp::kRelu) {
      // Written so that NaN passes through, as the CPU kernel and TensorFlow (x > 0 ? x : 0
      // turned NaN into 0).
      return x < T(0) ? T(0) : x;
    } else if constexpr (kOp == UnaryOp::kRelu6) {
      // NaN passes through, as the CPU's min(max(x, 0), 6).
      return x < T(0) ? T(0) : (x > T(6) ? T(6) : x);
    } else if constexpr (kOp == UnaryOp::kSign) {
      // NaN stays NaN (the CPU kernel, TensorFlow 2); the comparisons alone gave 0.
      if constexpr (kIsFloat<T>) {
        if (x != x) return x;
      }
      return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    } else if constexpr (!kIsFloat<T>) {
      return x;  // Floor, Ceil and Round of an integer
    } else if constexpr (kOp == UnaryOp::kExp) {
      return expf(x);
    } else if constexpr (kOp == UnaryOp::kLog) {
      return logf(x);
    } else if constexpr (kOp == UnaryOp::kLog1p) {
      return log1pf(x);
    } else if constexpr (kOp == UnaryOp::kSqrt) {
      return sqrtf(x);
    } else if constexpr (kOp == UnaryOp::kRsqrt) {
      return 1.0f / sqrtf(x);  // rsqrtf is 2 ulp; the division keeps the 1e-5 bound easily
    } else if constexpr (kOp == UnaryOp::kTanh) {
      return tanhf(x);
    } else if constexpr (kOp == UnaryOp::kSigmoid) {
      return 1.0f / (1.0f + expf(-x));
    } else if constexpr (kOp == UnaryOp::kElu) {
      return x < 0.0f ? expm1f(x) : x;
    } else if constexpr (kOp == UnaryOp::kSoftplus) {
      // TensorFlow's (and the CPU kernel's) threshold: log(FLT_EPSILON) + 2 = -13.942385; above
      // its negation softplus(x) is x, below it exp(x). (This used +-15.942385, log(epsilon)
      // without the + 2, so x in (13.94, 15.94] took the log1p(exp(x)) branch the CPU does not.)
      if (x > 13.942385f) return x;
      if (x < -13.942385f) return expf(x);
      return log1pf(expf(x));
    } else if constexpr (kOp == UnaryOp::kFloor) {
      return floorf(x);
    } else if constexpr (kOp == UnaryOp::kCeil) {
      return ceilf(x);
    } else if constexpr (kOp == UnaryOp::kRound) {
      return rintf(x);  // round half to even in the default rounding mode
    } else if constexpr (kOp == UnaryOp::kErf) {
      return erff(x);
    } else {
      static_assert(kOp == UnaryOp::kReciprocal, "unhandled unary op");
      return 1.0f / x;
    }
  }
};

template <typename T>
__device__ __forceinline__ T IntegerPow(T base, T exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
    return 0;
  }
  // Multiplied in the unsigned type: overflow wraps as on the CPU (kernels/cpu PowOp) instead
  // of being signed-overflow UB (the last squaring of `base` overflows even when the result
  // does not, e.g. 3^17 in int32).
  using U = typename std::make_unsigned<T>::type;
  U b = static_cast<U>(base);
  U result = 1;
  while (exponent > 0) {
    if (exponent & 1) result *= b;
    b *= b;
    exponent >>= 1;
  }
  return static_cast<T>(result);
}

template <BinaryOp kOp, typename T>
struct BinaryFn {
  __device__ __forceinline__ T operator()(T x, T y) const {
    if constexpr (kOp == BinaryOp::kAdd) {
      return x + y;
    } else if constexpr (kOp == BinaryOp::kSub) {
      return x - y;
    } else if constexpr (kOp == BinaryOp::kMul) {
      return x * y;
    } else if constexpr (kOp == BinaryOp::kMaximum) {
      // NaN in either operand gives NaN, as the CPU kernel and TensorFlow (x > y ? x : y
      // dropped a NaN x).
      return (x > y || x != x) ? x : y;
    } else if constexpr (kOp == BinaryOp::kMinimum) {
      return (x < y || x != x) ? x : y;
    } else if constexpr (kOp == BinaryOp::kSquaredDifference) {
      const T d = x - y;
      return d * d;
    } else if constexpr (kIsFloat<T>) {
      if constexpr (kOp == BinaryOp::kDiv) {
        return x / y;
      } else if constexpr (kOp == BinaryOp::kPow) {
        return powf(x, y);
      } else if constexpr (kOp == BinaryOp::kFloorDiv) {
        return floorf(x / y);
      } else {
        static_assert(kOp == BinaryOp::kFloorMod, "unhandled binary op");
        // fmod has the dividend's sign; move it to the divisor's as Python and TF do.
        T r = fmodf(x, y);
        if (r != T(0) && ((r < T(0)) != (y < T(0)))) r += y;
        return r;
      }
    } else {
      if constexpr (kOp == BinaryOp::kPow) {
        return IntegerPow(x, y);
      } else {
        if (y == 0) return 0;
        // x / -1 overflows only for the minimum value; the wrap-around matches the CPU.
        if constexpr (kOp == BinaryOp::kDiv) {
          return y == -1 ? static_cast<T>(0 - static_cast<typename std::make_unsigned<T>::type>(x)) : x / y;
        } else if constexpr (kOp == BinaryOp::kFloorDiv) {
          if (y == -1) return static_cast<T>(0 - static_cast<typename std::make_unsigned<T>::type>(x));
          T q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return q;
        } else {
          static_assert(kOp == BinaryOp::kFloorMod, "unhandled binary op");
          if (y == -1) return 0;
          T r = x % y;
          if (r != 0 && ((r < 0) != (y < 0))) r += y;
          return r;
        }
      }
    }
  }
};

}  // namespace internal
}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_ELEMENTWISE_FUNCTORS_CUH_
