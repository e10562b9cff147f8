// reduction_util.h - Kernel templates for reductions over axes given at run time:
// ReductionKernel<Reducer, T> (Sum, Mean, Max, Min, Prod, All, Any) and
// ArgReduceKernel<Compare, T> (ArgMax, ArgMin).
//
// Axes come from the second input at run time (a scalar or a vector, int32 or int64, negative
// values counting from the end, duplicates allowed, none meaning no reduction). The input's
// dims are collapsed into alternating runs of kept and reduced dims; the common layouts
// (one reduced run, with kept runs around it) are reduced by a strided loop, the rest by an
// odometer walk over the input. The strided loop is split over the device's intra-op threads
// (kernels/cpu/parallel_for.h) by kept outer rows, or by kept inner columns when there is one
// outer row; each output element is still reduced in the same order by one thread, so results
// do not depend on the thread count.
//
// A Reducer has a template alias Acc<T> (the accumulator), Init<T>() (the empty accumulator),
// Combine<T>(acc, x) (folds one element in) and Finalize<T>(acc, count) (the result over
// `count` elements).
#ifndef WEIR_KERNELS_CPU_REDUCTION_UTIL_H_
#define WEIR_KERNELS_CPU_REDUCTION_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/simd.h"
#include "runtime/kernel.h"

namespace weir {

// Reads the axes tensor (int32 or int64, rank <= 1) and normalizes it against `input_rank`.
inline absl::StatusOr<std::vector<bool>> ReducedAxes(const Tensor& axes,
                                                     const TensorShape& input) {
  if (axes.rank() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("input 1 (reduction_indices) has shape ",
                                                   axes.shape().ToString(),
                                                   ", expected a scalar or a vector"));
  }
  const int rank = input.rank();
  std::vector<bool> reduced(rank, false);
  for (int64_t i = 0; i < axes.num_elements(); ++i) {
    const int64_t axis =
        axes.dtype() == DT_INT32 ? axes.data<int32_t>()[i] : axes.data<int64_t>()[i];
    if (axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("axis ", axis,
                                                     " is out of range for input 0 of shape ",
                                                     input.ToString(), " (expected in [", -rank,
                                                     ", ", rank, "))"));
    }
    reduced[axis < 0 ? axis + rank : axis] = true;
  }
  return reduced;
}

// Sums accumulate in double (floats) or int64 (integers).
template <typename T>
using WideAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <typename T>
WideAcc<T> WrappingAdd(WideAcc<T> acc, T x) {
  if constexpr (std::is_integral_v<T>) {
    // Integer sums wrap as in TensorFlow; wrapping in 64 bits and truncating equals wrapping
    // in T.
    return static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(x));
  } else {
    return acc + x;
  }
}

// Reducers that add their elements up (Sum, Mean) say so with `static constexpr bool kAdds =
// true`; their float rows are summed by SumRow below instead of one element at a time.
template <typename Reducer, typename = void>
struct ReducerAdds : std::false_type {};
template <typename Reducer>
struct ReducerAdds<Reducer, std::void_t<decltype(Reducer::kAdds)>>
    : std::bool_constant<Reducer::kAdds> {};

// The sum of x[0..n) in double, kept in 8 independent partial sums so that the loop
// vectorizes (a single running double sum is one long dependency chain: the BERT benchmark's
// 8 Means over rows of 64 took 177 us). The result differs from a sequential double sum only
// in double rounding, far below float's precision.
template <typename T>
WEIR_VECTORIZED double SumRow(const T* x, int64_t n) {
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) partial[k] += static_cast<double>(x[i + k]);
  }
  for (int k = 0; i < n; ++i, ++k) partial[k] += static_cast<double>(x[i]);
  return ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
         ((partial[2] + partial[6]) + (partial[3] + partial[7]));
}

// acc[i] = Combine(acc[i], row[i]) for i < n: the reduced dim is not the innermost one.
template <typename Reducer, typename T, typename Stored>
WEIR_VECTORIZED void CombineRow(Stored* acc, const T* row, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = Reducer::template Combine<T>(acc[i], row[i]);
}

// The input's dims with size-1 dims dropped and adjacent dims of the same kind merged.
struct CollapsedDims {
  std::vector<int64_t> dims;
  std::vector<bool> reduced;
};

inline CollapsedDims Collapse(const TensorShape& shape, const std::vector<bool>& reduced) {
  CollapsedDims out;
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape.dim(i) == 1) continue;
    if (!out.dims.empty() && out.reduced.back() == reduced[i]) {
      out.dims.back() *= shape.dim(i);
    } else {
      out.dims.push_back(shape.dim(i));
      out.reduced.push_back(reduced[i]);
    }
  }
  return out;
}

template <typename Reducer, typename T>
void Reduce(const Device* device, const T* in, const CollapsedDims& c, int64_t count, T* out) {
  using Acc = typename Reducer::template Acc<T>;
  // Accumulator arrays hold bools as bytes: std::vector<bool> has no element references.
  using Stored = std::conditional_t<std::is_same_v<Acc, bool>, uint8_t, Acc>;
  const int rank = static_cast<int>(c.dims.size());
  const int num_reduced = static_cast<int>(std::count(c.reduced.begin(), c.reduced.end(), true));
  if (num_reduced <= 1) {
    // [outer][r][inner]: outer and inner are kept (possibly 1), r is reduced (possibly 1).
    int64_t outer = 1, r = 1, inner = 1;
    bool seen_reduced = false;
    for (int i = 0; i < rank; ++i) {
      if (c.reduced[i]) {
        r = c.dims[i];
        seen_reduced = true;
      } else {
        (seen_reduced ? inner : outer) *= c.dims[i];
      }
    }
    const double row_cost = kElementwiseCost * static_cast<double>(r);
    if (inner == 1) {
      ParallelFor(device, outer, row_cost, 1, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          const T* row = in + o * r;
          if constexpr (ReducerAdds<Reducer>::value && std::is_floating_point_v<T>) {
            out[o] = Reducer::template Finalize<T>(SumRow(row, r), count);
          } else {
            Acc a = Reducer::template Init<T>();
            for (int64_t j = 0; j < r; ++j) a = Reducer::template Combine<T>(a, row[j]);
            out[o] = Reducer::template Finalize<T>(a, count);
          }
        }
      });
      return;
    }
    // Columns [col_begin, col_end) of outer rows [o_begin, o_end), accumulated row by row.
    auto reduce_columns = [&](int64_t o_begin, int64_t o_end, int64_t col_begin,
                              int64_t col_end) {
      const int64_t width = col_end - col_begin;
      std::vector<Stored> acc(width);
      for (int64_t o = o_begin; o < o_end; ++o) {
        const T* block = in + o * r * inner + col_begin;
        std::fill(acc.begin(), acc.end(), Reducer::template Init<T>());
        for (int64_t j = 0; j < r; ++j) {
          CombineRow<Reducer, T, Stored>(acc.data(), block + j * inner, width);
        }
        for (int64_t i = 0; i < width; ++i) {
          out[o * inner + col_begin + i] = Reducer::template Finalize<T>(acc[i], count);
        }
      }
    };
    if (outer > 1) {
      ParallelFor(device, outer, row_cost * static_cast<double>(inner), 1,
                  [&](int64_t begin, int64_t end) { reduce_columns(begin, end, 0, inner); });
    } else {
      ParallelFor(device, inner, row_cost, [&](int64_t begin, int64_t end) {
        reduce_columns(0, 1, begin, end);
      });
    }
    return;
  }
  // General layout: walk the input in order, tracking the output offset with an odometer
  // whose stride is 0 along reduced dims.
  std::vector<int64_t> out_strides(rank, 0);
  int64_t out_size = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (!c.reduced[i]) {
      out_strides[i] = out_size;
      out_size *= c.dims[i];
    }
  }
  std::vector<Stored> acc(out_size, Reducer::template Init<T>());
  const int64_t inner = c.dims[rank - 1];
  const bool inner_reduced = c.reduced[rank - 1];
  int64_t outer = 1;
  for (int i = 0; i < rank - 1; ++i) outer *= c.dims[i];
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = in + o * inner;
    if (inner_reduced) {
      Stored& a = acc[offset];
      for (int64_t i = 0; i < inner; ++i) a = Reducer::template Combine<T>(a, row[i]);
    } else {
      Stored* a = acc.data() + offset;
      for (int64_t i = 0; i < inner; ++i) a[i] = Reducer::template Combine<T>(a[i], row[i]);
    }
    for (int d = rank - 2; d >= 0; --d) {
      offset += out_strides[d];
      if (++index[d] < c.dims[d]) break;
      offset -= out_strides[d] * c.dims[d];
      index[d] = 0;
    }
  }
  for (int64_t i = 0; i < out_size; ++i) out[i] = Reducer::template Finalize<T>(acc[i], count);
}

template <typename Reducer, typename T>
class ReductionKernel : public OpKernel {
 public:
  explicit ReductionKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("keep_dims", &keep_dims_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    absl::StatusOr<std::vector<bool>> reduced = ReducedAxes(ctx->input(1), input.shape());
    if (!reduced.ok()) return reduced.status();
    if (std::none_of(reduced->begin(), reduced->end(), [](bool r) { return r; })) {
      ctx->set_output(0, input);  // no axes: nothing to reduce
      return absl::OkStatus();
    }
    TensorShape out_shape;
    int64_t count = 1;
    for (int i = 0; i < input.rank(); ++i) {
      if ((*reduced)[i]) {
        count *= input.dim(i);
        if (keep_dims_) out_shape.AddDim(1);
      } else {
        out_shape.AddDim(input.dim(i));
      }
    }
    absl::StatusOr<Tensor*> output = ctx->allocate_output(0, input.dtype(), out_shape);
    if (!output.ok()) return output.status();
    T* out = (*output)->data<T>();
    if (input.num_elements() == 0) {
      // Reducing over an empty dim gives the reducer's empty value (0, NaN, -inf, ...).
      const T empty = Reducer::template Finalize<T>(Reducer::template Init<T>(), 0);
      std::fill(out, out + (*output)->num_elements(), empty);
      return absl::OkStatus();
    }
    Reduce<Reducer, T>(ctx->device(), input.data<T>(), Collapse(input.shape(), *reduced), count,
                       out);
    return absl::OkStatus();
  }

 private:
  bool keep_dims_ = false;
};

// ArgMax and ArgMin: the index of the first best value along one axis (output_type int32 or
// int64). Compare::Better(a, b) says whether a beats b; Compare::kName names the op in errors.
template <typename Compare, typename T>
class ArgReduceKernel : public OpKernel {
 public:
  explicit ArgReduceKernel(const KernelConstruction& c)
      : OpKernel(c), output_type_(c.output_type(0)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    const Tensor& dimension = ctx->input(1);
    if (dimension.rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (dimension) has shape ",
                                                     dimension.shape().ToString(),
                                                     ", expected a scalar"));
    }
    const int rank = input.rank();
    const int64_t axis = dimension.dtype() == DT_INT32 ? dimension.data<int32_t>()[0]
                                                       : dimension.data<int64_t>()[0];
    if (axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("axis ", axis,
                                                     " is out of range for input 0 of shape ",
                                                     input.shape().ToString(), " (expected in [",
                                                     -rank, ", ", rank, "))"));
    }
    const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
    const int64_t r = input.dim(a);
    TensorShape out_shape;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < rank; ++i) {
      if (i == a) continue;
      out_shape.AddDim(input.dim(i));
      (i < a ? outer : inner) *= input.dim(i);
    }
    if (r == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 0 has shape ", input.shape().ToString(),
                                                     ", expected a non-empty dimension ", a,
                                                     " to take the ", Compare::kName, " over"));
    }
    absl::StatusOr<Tensor*> output = ctx->allocate_output(0, output_type_, out_shape);
    if (!output.ok()) return output.status();
    if (output_type_ == DT_INT32) {
      BestIndex(input.data<T>(), outer, r, inner, (*output)->data<int32_t>());
    } else {
      BestIndex(input.data<T>(), outer, r, inner, (*output)->data<int64_t>());
    }
    return absl::OkStatus();
  }

 private:
  template <typename Index>
  static void BestIndex(const T* in, int64_t outer, int64_t r, int64_t inner, Index* out) {
    for (int64_t o = 0; o < outer; ++o) {
      const T* block = in + o * r * inner;
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        for (int64_t j = 1; j < r; ++j) {
          if (Compare::Better(block[j * inner + i], block[best * inner + i])) best = j;
        }
        out[o * inner + i] = static_cast<Index>(best);
      }
    }
  }

  DataType output_type_;
};

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_REDUCTION_UTIL_H_
