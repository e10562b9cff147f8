// softmax.cu - LaunchSoftmax: warp-per-row and block-per-row kernels, max then sum then write.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/softmax.h"

namespace weir {
namespace gpu {
namespace {

struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

constexpr int kWarpsPerBlock = 8;
constexpr int64_t kWarpRowLimit = 1024;
constexpr int kBlockThreads = 512;

template <bool kLog>
__device__ __forceinline__ float Normalize(float x, float max, float sum) {
  // log(sum) and 1/sum are computed per element, cheap next to the memory traffic.
  return kLog ? (x - max) - logf(sum) : expf(x - max) / sum;
}

template <bool kLog>
__global__ void SoftmaxWarpRows(const float* in, float* out, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  for (int64_t row = first; row < rows; row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    const float* p = in + row * cols;
    float* q = out + row * cols;
    float max = -INFINITY;
    for (int64_t c = lane; c < cols; c += 32) max = fmaxf(max, p[c]);
    max = __shfl_sync(0xffffffffu, internal::WarpReduce(max, MaxOp()), 0);
    float sum = 0.0f;
    for (int64_t c = lane; c < cols; c += 32) sum += expf(p[c] - max);
    sum = __shfl_sync(0xffffffffu, internal::WarpReduce(sum, SumOp()), 0);
    for (int64_t c = lane; c < cols; c += 32) q[c] = Normalize<kLog>(p[c], max, sum);
  }
}

template <bool kLog>
__global__ void SoftmaxBlockRows(const float* in, float* out, int64_t rows, int64_t cols) {
  __shared__ float scratch[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* p = in + row * cols;
    float* q = out + row * cols;
    float max = -INFINITY;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) max = fmaxf(max, p[c]);
    max = internal::BlockAllReduce(max, MaxOp(), -INFINITY, scratch);
    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(p[c] - max);
    sum = internal::BlockAllReduce(sum, SumOp(), 0.0f, scratch);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) q[c] = Normalize<kLog>(p[c], max, sum);
  }
}

template <bool kLog>
void Launch(const float* in, float* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (cols <= kWarpRowLimit) {
    SoftmaxWarpRows<kLog><<<internal::BlocksFor(rows, kWarpsPerBlock), kWarpsPerBlock * 32, 0,
                            stream>>>(in, out, rows, cols);
  } else {
    const unsigned blocks = static_cast<unsigned>(rows < (1 << 20) ? rows : (1 << 20));
    SoftmaxBlockRows<kLog><<<blocks, kBlockThreads, 0, stream>>>(in, out, rows, cols);
  }
}

}  // namespace

GpuStatus LaunchSoftmax(const float* in, float* out, int64_t rows, int64_t cols, bool log,
                        GpuStream stream) {
  if (rows < 0 || cols < 0) return GpuStatus::Error("softmax has a negative dimension");
  if (rows == 0 || cols == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  if (log) {
    Launch<true>(in, out, rows, cols, s);
  } else {
    Launch<false>(in, out, rows, cols, s);
  }
  return internal::LaunchStatus(log ? "LogSoftmax" : "Softmax");
}

}  // namespace gpu
}  // namespace weir
