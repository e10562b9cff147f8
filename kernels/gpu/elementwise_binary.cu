// elementwise_binary.cu - LaunchBinary: broadcasting binary ops over a BroadcastPlan with a
// same-shape kernel (vectorized when aligned), scalar-operand kernels and a strided kernel.
#include <cstdint>

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

template <typename Fn, typename T>
__global__ void SameShapeKernel(Fn fn, const T* lhs, const T* rhs, T* out, int64_t n) {
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
template <typename Fn, typename T, bool kScalarLhs>
__global__ void ScalarKernel(Fn fn, const T* lhs, const T* rhs, T* out, int64_t n) {
  const T scalar = kScalarLhs ? lhs[0] : rhs[0];
  const T* full = kScalarLhs ? rhs : lhs;
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = kScalarLhs ? fn(scalar, full[i]) : fn(full[i], scalar);
  }
}

// Index is uint32_t when every offset fits (64-bit division costs several times more than
// 32-bit, and this kernel divides once per dimension per element), int64_t otherwise.
template <typename Fn, typename T, typename Index>
__global__ void StridedKernel(Fn fn, const T* lhs, const T* rhs, T* out, Index n,
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

template <BinaryOp kOp, typename T>
GpuStatus Run(const BroadcastPlan& plan, const T* lhs, const T* rhs, T* out,
              cudaStream_t stream) {
  internal::BinaryFn<kOp, T> fn;
  const int64_t n = plan.num_elements;
  const int threads = internal::kThreadsPerBlock;
  switch (plan.kind) {
    case BroadcastPlan::Kind::kEmpty:
      return GpuStatus::Ok();
    case BroadcastPlan::Kind::kSameShape: {
      constexpr int kWidth = 16 / sizeof(T);
      int64_t done = 0;
      if (n >= kWidth && internal::IsAligned(lhs, 16) && internal::IsAligned(rhs, 16) &&
          internal::IsAligned(out, 16)) {
        const int64_t vectors = n / kWidth;
        SameShapeVectorKernel<decltype(fn), T, kWidth>
            <<<internal::BlocksFor(vectors), threads, 0, stream>>>(fn, lhs, rhs, out, vectors);
        done = vectors * kWidth;
      }
      if (done < n) {
        SameShapeKernel<<<internal::BlocksFor(n - done), threads, 0, stream>>>(
            fn, lhs + done, rhs + done, out + done, n - done);
      }
      break;
    }
    case BroadcastPlan::Kind::kLhsScalar:
      ScalarKernel<decltype(fn), T, true>
          <<<internal::BlocksFor(n), threads, 0, stream>>>(fn, lhs, rhs, out, n);
      break;
    case BroadcastPlan::Kind::kRhsScalar:
      ScalarKernel<decltype(fn), T, false>
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
        StridedKernel<decltype(fn), T, uint32_t><<<internal::BlocksFor(n), threads, 0, stream>>>(
            fn, lhs, rhs, out, static_cast<uint32_t>(n), ix);
      } else {
        StridedKernel<decltype(fn), T, int64_t><<<internal::BlocksFor(n), threads, 0, stream>>>(
            fn, lhs, rhs, out, n, ix);
      }
      break;
    }
  }
  return internal::LaunchStatus(BinaryOpName(kOp));
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

}  // namespace gpu
}  // namespace weir
