// cuda_helpers.cuh - Launch sizing, grid-stride loops, warp/block reductions and error
// conversion shared by the .cu files of kernels/gpu/. Included by .cu files only.
#ifndef WEIR_KERNELS_GPU_CUDA_HELPERS_CUH_
#define WEIR_KERNELS_GPU_CUDA_HELPERS_CUH_

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {
namespace internal {

inline cudaStream_t AsCudaStream(GpuStream stream) {
  return static_cast<cudaStream_t>(stream);
}

// Turns the launch's error (cudaGetLastError) into a GpuStatus naming the kernel.
inline GpuStatus LaunchStatus(const char* kernel) {
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return GpuStatus::Ok();
  return GpuStatus::Error(std::string("launching ") + kernel + " failed: " +
                          cudaGetErrorString(err));
}

inline GpuStatus CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return GpuStatus::Ok();
  return GpuStatus::Error(std::string(what) + " failed: " + cudaGetErrorString(err));
}

constexpr int kThreadsPerBlock = 256;
// Grid-stride loops cover anything past this many blocks; 65536 blocks of 256 threads keep
// every SM of an H100 (132 SMs x 2048 threads) busy many times over.
constexpr int64_t kMaxBlocks = 65536;

inline unsigned int BlocksFor(int64_t work_items, int threads = kThreadsPerBlock) {
  int64_t blocks = (work_items + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned int>(blocks);
}

__device__ __forceinline__ int64_t GlobalThreadIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t GlobalThreadCount() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// A register array of N elements loaded and stored as one 16-byte transaction.
template <typename T, int N>
struct alignas(sizeof(T) * N) VectorOf {
  T v[N];
};

inline bool IsAligned(const void* p, int bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// Warp-level reduction with `combine` (a device functor taking two values).
template <typename T, typename Combine>
__device__ __forceinline__ T WarpReduce(T value, Combine combine) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    value = combine(value, __shfl_down_sync(0xffffffffu, value, offset));
  }
  return value;
}

// Block-level reduction; the result is valid in thread 0. `identity` fills unused lanes.
// Every thread of the block must call it; `scratch` holds 32 values.
template <typename T, typename Combine>
__device__ __forceinline__ T BlockReduce(T value, Combine combine, T identity, T* scratch) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  value = WarpReduce(value, combine);
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  const int num_warps = (blockDim.x + 31) / 32;
  value = threadIdx.x < num_warps ? scratch[lane] : identity;
  if (warp == 0) value = WarpReduce(value, combine);
  __syncthreads();  // scratch may be reused right after
  return value;
}

// BlockReduce whose result every thread of the block sees.
template <typename T, typename Combine>
__device__ __forceinline__ T BlockAllReduce(T value, Combine combine, T identity, T* scratch) {
  value = BlockReduce(value, combine, identity, scratch);
  if (threadIdx.x == 0) scratch[0] = value;
  __syncthreads();
  value = scratch[0];
  __syncthreads();
  return value;
}

}  // namespace internal
}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_CUDA_HELPERS_CUH_
