// elementwise_binary.cu - LaunchBinary, LaunchCompare and LaunchLogical: broadcasting binary ops
// over a BroadcastPlan with a same-shape kernel (vectorized when aligned and the output type is
// the input's), scalar-operand kernels and a strided kernel; and LaunchLogicalNot.
#include <cstdint>
#include <type_traits>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/elementwise_functors.cuh"
#include "kernels/gpu/shape_util.h"

namespace weir {
namespace gpu {
namespace {

using internal::VectorOf;

// The plan's strides passed by value to the kernel (lives in the parameter space).
struct StridedIndexing {
  int rank;
  int64_t out_dims[kMaxGpuRank];
  int64_t lhs_strides[kMaxGpuRank];
  int64_t rhs_strides[kMaxGpuRank];
};

template <typename Fn, typename T, typename Out>
__global__ void SameShapeKernel(Fn fn, const T* lhs, const T* rhs, Out* out, int64_t n) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = fn(lhs[i], rhs[i]);
  }
}

template <typename Fn, typename T, int kWidth>
__global__ void SameShapeVectorKernel(Fn fn, const T* lhs, const T* rhs, T* out,
                                      int64_t num_vectors) {
  const auto* vl = reinterpret_cast<const VectorOf<T, kWidth>*>(lhs);
  const auto* vr = reinterpret_cast<const VectorOf<T, kWidth>*>(rhs);
  auto* vo = reinterpret_cast<VectorOf<T, kWidth>*>(out);
  for (int64_t i = internal::GlobalThreadIndex(); i < num_vectors;
       i += internal::GlobalThreadCount()) {
    const VectorOf<T, kWidth> a = vl[i];
    const VectorOf<T, kWidth> b = vr[i];
    VectorOf<T, kWidth> c;
#pragma unroll
    for (int k = 0; k < kWidth; ++k) c.v[k] = fn(a.v[k], b.v[k]);
    vo[i] = c;
  }
}

// kScalarLhs: lhs is one element; otherwise rhs is.
template <typename Fn, typename T, typename Out, bool kScalarLhs>
__global__ void ScalarKernel(Fn fn, const T* lhs, const T* rhs, Out* out, int64_t n) {
  const T scalar = kScalarLhs ? lhs[0] : rhs[0];
  const T* full = kScalarLhs ? rhs : lhs;
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = kScalarLhs ? fn(scalar, full[i]) : fn(full[i], scalar);
  }
}

// Index is uint32_t when every offset fits (64-bit division costs several times more than
// 32-bit, and this kernel divides once per dimension per element), int64_t otherwise.
template <typename Fn, typename T, typename Out, typename Index>
__global__ void StridedKernel(Fn fn, const T* lhs, const T* rhs, Out* out, Index n,
                              StridedIndexing ix) {
  Index out_dims[kMaxGpuRank], lhs_strides[kMaxGpuRank], rhs_strides[kMaxGpuRank];
#pragma unroll
  for (int d = 0; d < kMaxGpuRank; ++d) {
    out_dims[d] = static_cast<Index>(ix.out_dims[d]);
    lhs_strides[d] = static_cast<Index>(ix.lhs_strides[d]);
    rhs_strides[d] = static_cast<Index>(ix.rhs_strides[d]);
  }
  const Index step = static_cast<Index>(internal::GlobalThreadCount());
  for (Index i = static_cast<Index>(internal::GlobalThreadIndex()); i < n; i += step) {
    Index rest = i, l = 0, r = 0;
    // Unrolled over the maximum rank so the arrays stay in registers (a loop bounded by
    // ix.rank would index them dynamically, i.e. through local memory).
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {
      if (d >= ix.rank) continue;
      const Index dim = out_dims[d];
      const Index coord = rest % dim;
      rest /= dim;
      l += coord * lhs_strides[d];
      r += coord * rhs_strides[d];
    }
    out[i] = fn(lhs[l], rhs[r]);
  }
}

// Runs fn over `plan` writing Out (T for arithmetic, bool for comparisons); the vectorized
// same-shape kernel only when Out is T.
template <typename Fn, typename T, typename Out>
GpuStatus RunPlan(Fn fn, const BroadcastPlan& plan, const T* lhs, const T* rhs, Out* out,
                  cudaStream_t stream, const char* name) {
  const int64_t n = plan.num_elements;
  const int threads = internal::kThreadsPerBlock;
  switch (plan.kind) {
    case BroadcastPlan::Kind::kEmpty:
      return GpuStatus::Ok();
    case BroadcastPlan::Kind::kSameShape: {
      constexpr int kWidth = 16 / sizeof(T);
      int64_t done = 0;
      if constexpr (std::is_same<T, Out>::value) {
        if (n >= kWidth && internal::IsAligned(lhs, 16) && internal::IsAligned(rhs, 16) &&
            internal::IsAligned(out, 16)) {
          const int64_t vectors = n / kWidth;
          SameShapeVectorKernel<Fn, T, kWidth>
              <<<internal::BlocksFor(vectors), threads, 0, stream>>>(fn, lhs, rhs, out, vectors);
          done = vectors * kWidth;
        }
      }
      if (done < n) {
        SameShapeKernel<<<internal::BlocksFor(n - done), threads, 0, stream>>>(
            fn, lhs + done, rhs + done, out + done, n - done);
      }
      break;
    }
    case BroadcastPlan::Kind::kLhsScalar:
      ScalarKernel<Fn, T, Out, true>
          <<<internal::BlocksFor(n), threads, 0, stream>>>(fn, lhs, rhs, out, n);
      break;
    case BroadcastPlan::Kind::kRhsScalar:
      ScalarKernel<Fn, T, Out, false>
          <<<internal::BlocksFor(n), threads, 0, stream>>>(fn, lhs, rhs, out, n);
      break;
    case BroadcastPlan::Kind::kGeneral: {
      StridedIndexing ix;
      ix.rank = plan.rank;
      for (int d = 0; d < kMaxGpuRank; ++d) {
        ix.out_dims[d] = plan.out_dims[d];
        ix.lhs_strides[d] = plan.lhs_strides[d];
        ix.rhs_strides[d] = plan.rhs_strides[d];
      }
      // n + the grid's thread count must not wrap a uint32_t in the grid-stride loop.
      if (n + internal::kMaxBlocks * threads < (int64_t{1} << 32)) {
        StridedKernel<Fn, T, Out, uint32_t><<<internal::BlocksFor(n), threads, 0, stream>>>(
            fn, lhs, rhs, out, static_cast<uint32_t>(n), ix);
      } else {
        StridedKernel<Fn, T, Out, int64_t><<<internal::BlocksFor(n), threads, 0, stream>>>(
            fn, lhs, rhs, out, n, ix);
      }
      break;
    }
  }
  return internal::LaunchStatus(name);
}

template <BinaryOp kOp, typename T>
GpuStatus Run(const BroadcastPlan& plan, const T* lhs, const T* rhs, T* out,
              cudaStream_t stream) {
  return RunPlan(internal::BinaryFn<kOp, T>(), plan, lhs, rhs, out, stream, BinaryOpName(kOp));
}

template <CompareOp kOp>
struct CompareFn {
  template <typename T>
  __device__ __forceinline__ bool operator()(T x, T y) const {
    // The C++ operators: every comparison with a NaN is false but NotEqual, as in TensorFlow.
    if constexpr (kOp == CompareOp::kEqual) return x == y;
    else if constexpr (kOp == CompareOp::kNotEqual) return x != y;
    else if constexpr (kOp == CompareOp::kLess) return x < y;
    else if constexpr (kOp == CompareOp::kLessEqual) return x <= y;
    else if constexpr (kOp == CompareOp::kGreater) return x > y;
    else return x >= y;
  }
};

template <LogicalOp kOp>
struct LogicalFn {
  __device__ __forceinline__ bool operator()(bool x, bool y) const {
    return kOp == LogicalOp::kAnd ? (x && y) : (x || y);
  }
};

__global__ void LogicalNotKernel(const bool* in, bool* out, int64_t n) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = !in[i];
  }
}

}  // namespace

const char* BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "Add";
    case BinaryOp::kSub: return "Sub";
    case BinaryOp::kMul: return "Mul";
    case BinaryOp::kDiv: return "RealDiv";
    case BinaryOp::kMaximum: return "Maximum";
    case BinaryOp::kMinimum: return "Minimum";
    case BinaryOp::kPow: return "Pow";
    case BinaryOp::kSquaredDifference: return "SquaredDifference";
    case BinaryOp::kFloorDiv: return "FloorDiv";
    case BinaryOp::kFloorMod: return "FloorMod";
  }
  return "unknown";
}

template <typename T>
GpuStatus LaunchBinary(BinaryOp op, const T* lhs, const GpuDims& lhs_shape, const T* rhs,
                       const GpuDims& rhs_shape, T* out, GpuStream stream) {
  BroadcastPlan plan;
  GpuStatus status = MakeBroadcastPlan(lhs_shape, rhs_shape, &plan);
  if (!status.ok()) return status;
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (op) {
#define WEIR_BINARY_CASE(name) \
  case BinaryOp::name:         \
    return Run<BinaryOp::name, T>(plan, lhs, rhs, out, s);
    WEIR_BINARY_CASE(kAdd)
    WEIR_BINARY_CASE(kSub)
    WEIR_BINARY_CASE(kMul)
    WEIR_BINARY_CASE(kDiv)
    WEIR_BINARY_CASE(kMaximum)
    WEIR_BINARY_CASE(kMinimum)
    WEIR_BINARY_CASE(kPow)
    WEIR_BINARY_CASE(kSquaredDifference)
    WEIR_BINARY_CASE(kFloorDiv)
    WEIR_BINARY_CASE(kFloorMod)
#undef WEIR_BINARY_CASE
  }
  return GpuStatus::Error("unknown binary op");
}

template GpuStatus LaunchBinary<float>(BinaryOp, const float*, const GpuDims&, const float*,
                                       const GpuDims&, float*, GpuStream);
template GpuStatus LaunchBinary<int32_t>(BinaryOp, const int32_t*, const GpuDims&,
                                         const int32_t*, const GpuDims&, int32_t*, GpuStream);
template GpuStatus LaunchBinary<int64_t>(BinaryOp, const int64_t*, const GpuDims&,
                                         const int64_t*, const GpuDims&, int64_t*, GpuStream);

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual: return "Equal";
    case CompareOp::kNotEqual: return "NotEqual";
    case CompareOp::kLess: return "Less";
    case CompareOp::kLessEqual: return "LessEqual";
    case CompareOp::kGreater: return "Greater";
    case CompareOp::kGreaterEqual: return "GreaterEqual";
  }
  return "unknown";
}

template <typename T>
GpuStatus LaunchCompare(CompareOp op, const T* lhs, const GpuDims& lhs_shape, const T* rhs,
                        const GpuDims& rhs_shape, bool* out, GpuStream stream) {
  BroadcastPlan plan;
  GpuStatus status = MakeBroadcastPlan(lhs_shape, rhs_shape, &plan);
  if (!status.ok()) return status;
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (op) {
#define WEIR_COMPARE_CASE(name) \
  case CompareOp::name:         \
    return RunPlan(CompareFn<CompareOp::name>(), plan, lhs, rhs, out, s, CompareOpName(op));
    WEIR_COMPARE_CASE(kEqual)
    WEIR_COMPARE_CASE(kNotEqual)
    WEIR_COMPARE_CASE(kLess)
    WEIR_COMPARE_CASE(kLessEqual)
    WEIR_COMPARE_CASE(kGreater)
    WEIR_COMPARE_CASE(kGreaterEqual)
#undef WEIR_COMPARE_CASE
  }
  return GpuStatus::Error("unknown comparison");
}

template GpuStatus LaunchCompare<float>(CompareOp, const float*, const GpuDims&, const float*,
                                        const GpuDims&, bool*, GpuStream);
template GpuStatus LaunchCompare<int32_t>(CompareOp, const int32_t*, const GpuDims&,
                                          const int32_t*, const GpuDims&, bool*, GpuStream);
template GpuStatus LaunchCompare<int64_t>(CompareOp, const int64_t*, const GpuDims&,
                                          const int64_t*, const GpuDims&, bool*, GpuStream);
template GpuStatus LaunchCompare<bool>(CompareOp, const bool*, const GpuDims&, const bool*,
                                       const GpuDims&, bool*, GpuStream);

GpuStatus LaunchLogical(LogicalOp op, const bool* lhs, const GpuDims& lhs_shape, const bool* rhs,
                        const GpuDims& rhs_shape, bool* out, GpuStream stream) {
  BroadcastPlan plan;
  GpuStatus status = MakeBroadcastPlan(lhs_shape, rhs_shape, &plan);
  if (!status.ok()) return status;
  cudaStream_t s = internal::AsCudaStream(stream);
  return op == LogicalOp::kAnd
             ? RunPlan(LogicalFn<LogicalOp::kAnd>(), plan, lhs, rhs, out, s, "LogicalAnd")
             : RunPlan(LogicalFn<LogicalOp::kOr>(), plan, lhs, rhs, out, s, "LogicalOr");
}

GpuStatus LaunchLogicalNot(const bool* in, bool* out, int64_t n, GpuStream stream) {
  if (n < 0) return GpuStatus::Error("LogicalNot of a negative size");
  if (n == 0) return GpuStatus::Ok();
  LogicalNotKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0,
                     internal::AsCudaStream(stream)>>>(in, out, n);
  return internal::LaunchStatus("LogicalNot");
}

}  // namespace gpu
}  // namespace weir
