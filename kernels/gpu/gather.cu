// gather.cu - LaunchGatherV2 and ReadGatherError.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/gather.h"

namespace weir {
namespace gpu {
namespace {

constexpr unsigned long long kNoError = ~0ull;

template <typename T, typename Index>
__global__ void GatherKernel(const T* params, const Index* indices, T* out, int64_t n,
                             int64_t num_indices, int64_t axis_size, int64_t inner,
                             unsigned long long* error_slot) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    const int64_t k = i % inner;
    const int64_t rest = i / inner;
    const int64_t j = rest % num_indices;
    const int64_t o = rest / num_indices;
    const int64_t index = static_cast<int64_t>(indices[j]);
    if (index < 0 || index >= axis_size) {
      out[i] = T(0);
      if (error_slot != nullptr) atomicMin(error_slot, static_cast<unsigned long long>(j));
    } else {
      out[i] = params[(o * axis_size + index) * inner + k];
    }
  }
}

}  // namespace

template <typename T, typename Index>
GpuStatus LaunchGatherV2(const T* params, int64_t outer, int64_t axis_size, int64_t inner,
                         const Index* indices, int64_t num_indices, T* out,
                         void* error_slot, GpuStream stream) {
  if (outer < 0 || axis_size < 0 || inner < 0 || num_indices < 0) {
    return GpuStatus::Error("gather has a negative dimension");
  }
  cudaStream_t s = internal::AsCudaStream(stream);
  auto* slot = static_cast<unsigned long long*>(error_slot);
  if (slot != nullptr) {
    GpuStatus st = internal::CudaStatus(cudaMemsetAsync(slot, 0xff, sizeof(*slot), s),
                                        "resetting the gather error slot");
    if (!st.ok()) return st;
  }
  const int64_t n = outer * num_indices * inner;
  if (n == 0) return GpuStatus::Ok();
  GatherKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0, s>>>(
      params, indices, out, n, num_indices, axis_size, inner, slot);
  return internal::LaunchStatus("GatherV2");
}

template <typename Index>
GpuStatus ReadGatherError(const void* error_slot, const Index* indices, int64_t axis_size,
                          GpuStream stream) {
  cudaStream_t s = internal::AsCudaStream(stream);
  unsigned long long position = kNoError;
  GpuStatus st = internal::CudaStatus(
      cudaMemcpyAsync(&position, error_slot, sizeof(position), cudaMemcpyDeviceToHost, s),
      "reading the gather error slot");
  if (!st.ok()) return st;
  st = internal::CudaStatus(cudaStreamSynchronize(s), "waiting for the gather");
  if (!st.ok()) return st;
  if (position == kNoError) return GpuStatus::Ok();
  Index value = 0;
  st = internal::CudaStatus(cudaMemcpy(&value, indices + position, sizeof(Index),
                                       cudaMemcpyDeviceToHost),
                            "reading the bad gather index");
  if (!st.ok()) return st;
  return GpuStatus::Error("indices[" + std::to_string(position) + "] = " +
                          std::to_string(static_cast<int64_t>(value)) + " is not in [0, " +
                          std::to_string(axis_size) + ")");
}

#define WEIR_INSTANTIATE(T, Index)                                                        \
  template GpuStatus LaunchGatherV2<T, Index>(const T*, int64_t, int64_t, int64_t,        \
                                              const Index*, int64_t, T*, void*, GpuStream);
WEIR_INSTANTIATE(float, int32_t)
WEIR_INSTANTIATE(float, int64_t)
WEIR_INSTANTIATE(int32_t, int32_t)
WEIR_INSTANTIATE(int32_t, int64_t)
WEIR_INSTANTIATE(int64_t, int32_t)
WEIR_INSTANTIATE(int64_t, int64_t)
WEIR_INSTANTIATE(bool, int32_t)
WEIR_INSTANTIATE(bool, int64_t)
#undef WEIR_INSTANTIATE

template GpuStatus ReadGatherError<int32_t>(const void*, const int32_t*, int64_t, GpuStream);
template GpuStatus ReadGatherError<int64_t>(const void*, const int64_t*, int64_t, GpuStream);

}  // namespace gpu
}  // namespace weir
