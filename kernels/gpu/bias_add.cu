// bias_add.cu - LaunchBiasAdd: one flat kernel, vectorized for the NHWC case.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/gpu/bias_add.h"
#include "kernels/gpu/cuda_helpers.cuh"

namespace weir {
namespace gpu {
namespace {

using internal::VectorOf;

template <typename T>
__global__ void BiasAddKernel(const T* in, const T* bias, T* out, int64_t n, int64_t channels,
                              int64_t inner) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = in[i] + bias[(i / inner) % channels];
  }
}

// NHWC with channels a multiple of the vector width: every vector lies within one bias row.
template <typename T, int kWidth>
__global__ void BiasAddLastDimVector(const T* in, const T* bias, T* out, int64_t num_vectors,
                                     int64_t channel_vectors) {
  const auto* vin = reinterpret_cast<const VectorOf<T, kWidth>*>(in);
  const auto* vbias = reinterpret_cast<const VectorOf<T, kWidth>*>(bias);
  auto* vout = reinterpret_cast<VectorOf<T, kWidth>*>(out);
  for (int64_t i = internal::GlobalThreadIndex(); i < num_vectors;
       i += internal::GlobalThreadCount()) {
    VectorOf<T, kWidth> v = vin[i];
    const VectorOf<T, kWidth> b = vbias[i % channel_vectors];
#pragma unroll
    for (int k = 0; k < kWidth; ++k) v.v[k] += b.v[k];
    vout[i] = v;
  }
}

}  // namespace

template <typename T>
GpuStatus LaunchBiasAdd(const T* in, const T* bias, T* out, int64_t outer, int64_t channels,
                        int64_t inner, GpuStream stream) {
  if (outer < 0 || channels < 0 || inner < 0) {
    return GpuStatus::Error("bias add has a negative dimension");
  }
  const int64_t n = outer * channels * inner;
  if (n == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  constexpr int kWidth = 16 / sizeof(T);
  if (inner == 1 && channels % kWidth == 0 && internal::IsAligned(in, 16) &&
      internal::IsAligned(bias, 16) && internal::IsAligned(out, 16)) {
    BiasAddLastDimVector<T, kWidth><<<internal::BlocksFor(n / kWidth),
                                      internal::kThreadsPerBlock, 0, s>>>(
        in, bias, out, n / kWidth, channels / kWidth);
  } else {
    BiasAddKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0, s>>>(
        in, bias, out, n, channels, inner);
  }
  return internal::LaunchStatus("BiasAdd");
}

template GpuStatus LaunchBiasAdd<float>(const float*, const float*, float*, int64_t, int64_t,
                                        int64_t, GpuStream);
template GpuStatus LaunchBiasAdd<int32_t>(const int32_t*, const int32_t*, int32_t*, int64_t,
                                          int64_t, int64_t, GpuStream);
template GpuStatus LaunchBiasAdd<int64_t>(const int64_t*, const int64_t*, int64_t*, int64_t,
                                          int64_t, int64_t, GpuStream);

}  // namespace gpu
}  // namespace weir
