// reduction.cc - CPU kernels for reductions over axes: Sum, Mean, Max, and ArgMax.
//
// The kernel templates live in kernels/cpu/reduction_util.h; this file defines the reducers.
// Float sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/reduction_util.h"
#include "kernels/cpu/registry.h"
#include "kernels/cpu/typed_row.h"

namespace weir {
namespace {

struct SumReducer {
  static constexpr bool kAdds = true;
  template <typename T>
  using Acc = WideAcc<T>;
  template <typename T>
  static Acc<T> Init() {
    return 0;
  }
  template <typename T>
  static Acc<T> Combine(Acc<T> acc, T x) {
    return WrappingAdd<T>(acc, x);
  }
  template <typename T>
  static T Finalize(Acc<T> acc, int64_t) {
    return static_cast<T>(acc);
  }
};

struct MeanReducer {
  static constexpr bool kAdds = true;
  template <typename T>
  using Acc = WideAcc<T>;
  template <typename T>
  static Acc<T> Init() {
    return 0;
  }
  template <typename T>
  static Acc<T> Combine(Acc<T> acc, T x) {
    return WrappingAdd<T>(acc, x);
  }
  template <typename T>
  static T Finalize(Acc<T> acc, int64_t count) {
    if constexpr (std::is_integral_v<T>) {
      if (count == 0) return 0;
      return static_cast<T>(acc / count);
    } else {
      return static_cast<T>(acc / static_cast<double>(count));  // NaN when empty
    }
  }
};

// Max of nothing is the lowest value (-inf for floats); NaN propagates.
struct MaxReducer {
  template <typename T>
  using Acc = T;
  template <typename T>
  static T Init() {
    if constexpr (std::is_floating_point_v<T>) {
      return -std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::lowest();
    }
  }
  template <typename T>
  static T Combine(T acc, T x) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    return x > acc ? x : acc;
  }
  template <typename T>
  static T Finalize(T acc, int64_t) {
    return acc;
  }
};

// ArgMax picks the first largest value.
struct ArgMaxCompare {
  static constexpr char kName[] = "argmax";
  template <typename T>
  static bool Better(T a, T b) {
    return a > b;
  }
};

}  // namespace

void RegisterCpuReductionKernels(KernelRegistry& registry) {
  registry.Register(
      TypedRow<ReductionKernel, SumReducer, float, double, int32_t, int64_t>("Sum"));
  registry.Register(TypedRow<ReductionKernel, MeanReducer, float, double>("Mean"));
  registry.Register(
      TypedRow<ReductionKernel, MaxReducer, float, double, int32_t, int64_t>("Max"));
  registry.Register(
      TypedRow<ArgReduceKernel, ArgMaxCompare, float, double, int32_t, int64_t>("ArgMax"));
}

}  // namespace weir
