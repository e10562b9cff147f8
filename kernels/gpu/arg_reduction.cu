// arg_reduction.cu - LaunchArgReduce: ArgMax/ArgMin over one axis with int64 indices, the
// first index winning ties.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/reduction.h"

namespace weir {
namespace gpu {
namespace {

// (value, index) candidates: `Better` says whether a should replace b.
// NaN never wins and loses to any number: with the check of element 0 in ArgReduceRows this
// is the CPU's sequential scan (and ArgReduceColumns'), where a NaN is picked only at index 0,
// since nothing compares greater than it. Without these two lines the warp tree kept or dropped
// a lane's NaN depending on which lane held it. (a != a is false for integers.)
template <ArgReduceOp kOp, typename T>
__device__ __forceinline__ bool Better(T a_value, int64_t a_index, T b_value, int64_t b_index) {
  if (a_value != a_value) return false;
  if (b_value != b_value) return true;
  if (kOp == ArgReduceOp::kArgMax) {
    if (a_value > b_value) return true;
  } else {
    if (a_value < b_value) return true;
  }
  return a_value == b_value && a_index < b_index;
}

constexpr int kWarpsPerBlock = 8;

// inner == 1: a warp per row of `n` contiguous values.
template <ArgReduceOp kOp, typename T>
__global__ void ArgReduceRows(const T* in, int64_t* out, int64_t rows, int64_t n) {
  const int lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  for (int64_t row = first; row < rows; row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    const T* p = in + row * n;
    // Lanes start at distinct indices and scan upward, so within a lane the first index wins
    // by the strict comparison; across lanes Better breaks ties on the index.
    T best = p[lane < n ? lane : 0];
    int64_t best_index = lane < n ? lane : 0;
    for (int64_t i = lane + 32; i < n; i += 32) {
      if (Better<kOp>(p[i], i, best, best_index)) {
        best = p[i];
        best_index = i;
      }
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
      const T other = __shfl_down_sync(0xffffffffu, best, offset);
      const int64_t other_index = __shfl_down_sync(0xffffffffu, best_index, offset);
      if (Better<kOp>(other, other_index, best, best_index)) {
        best = other;
        best_index = other_index;
      }
    }
    if (lane == 0) out[row] = p[0] != p[0] ? 0 : best_index;  // NaN first: see Better
  }
}

// inner > 1: a thread per output, neighbouring threads read neighbouring columns.
template <ArgReduceOp kOp, typename T>
__global__ void ArgReduceColumns(const T* in, int64_t* out, int64_t outer, int64_t n,
                                 int64_t inner) {
  const int64_t total = outer * inner;
  for (int64_t t = internal::GlobalThreadIndex(); t < total; t += internal::GlobalThreadCount()) {
    const int64_t o = t / inner;
    const int64_t c = t % inner;
    const T* p = in + o * n * inner + c;
    T best = p[0];
    int64_t best_index = 0;
    for (int64_t i = 1; i < n; ++i) {
      const T v = p[i * inner];
      if (kOp == ArgReduceOp::kArgMax ? v > best : v < best) {
        best = v;
        best_index = i;
      }
    }
    out[t] = best_index;
  }
}

template <ArgReduceOp kOp, typename T>
GpuStatus Run(const T* in, int64_t* out, int64_t outer, int64_t n, int64_t inner,
              cudaStream_t stream) {
  if (inner == 1) {
    ArgReduceRows<kOp, T><<<internal::BlocksFor(outer, kWarpsPerBlock), kWarpsPerBlock * 32, 0,
                            stream>>>(in, out, outer, n);
  } else {
    ArgReduceColumns<kOp, T><<<internal::BlocksFor(outer * inner), internal::kThreadsPerBlock,
                               0, stream>>>(in, out, outer, n, inner);
  }
  return internal::LaunchStatus(kOp == ArgReduceOp::kArgMax ? "ArgMax" : "ArgMin");
}

}  // namespace

template <typename T>
GpuStatus LaunchArgReduce(ArgReduceOp op, const T* in, const GpuDims& in_shape, int axis,
                          int64_t* out, GpuStream stream) {
  if (!in_shape.Valid()) {
    return GpuStatus::Error("arg reduction input shape is invalid: " + in_shape.ToString());
  }
  if (axis < -in_shape.rank || axis >= in_shape.rank || in_shape.rank == 0) {
    return GpuStatus::Error("arg reduction axis " + std::to_string(axis) +
                            " is out of range for an input of rank " +
                            std::to_string(in_shape.rank));
  }
  if (axis < 0) axis += in_shape.rank;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in_shape.dims[d];
  for (int d = axis + 1; d < in_shape.rank; ++d) inner *= in_shape.dims[d];
  const int64_t n = in_shape.dims[axis];
  if (outer * inner == 0) return GpuStatus::Ok();
  if (n == 0) {
    return GpuStatus::Error("arg reduction axis " + std::to_string(axis) +
                            " is empty in shape " + in_shape.ToString());
  }
  cudaStream_t s = internal::AsCudaStream(stream);
  if (op == ArgReduceOp::kArgMax) return Run<ArgReduceOp::kArgMax, T>(in, out, outer, n, inner, s);
  return Run<ArgReduceOp::kArgMin, T>(in, out, outer, n, inner, s);
}

template GpuStatus LaunchArgReduce<float>(ArgReduceOp, const float*, const GpuDims&, int,
                                          int64_t*, GpuStream);
template GpuStatus LaunchArgReduce<int32_t>(ArgReduceOp, const int32_t*, const GpuDims&, int,
                                            int64_t*, GpuStream);
template GpuStatus LaunchArgReduce<int64_t>(ArgReduceOp, const int64_t*, const GpuDims&, int,
                                            int64_t*, GpuStream);

}  // namespace gpu
}  // namespace weir
