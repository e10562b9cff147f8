// cast_fill.cu - LaunchCast and LaunchFill: flat grid-stride kernels.
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/cuda_helpers.cuh"

namespace weir {
namespace gpu {
namespace {

template <typename From, typename To>
__global__ void CastKernel(const From* in, To* out, int64_t n) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    if constexpr (std::is_same<To, bool>::value) {
      out[i] = in[i] != From(0);
    } else {
      out[i] = static_cast<To>(in[i]);
    }
  }
}

template <typename T>
__global__ void FillKernel(T* out, int64_t n, T value) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = value;
  }
}

}  // namespace

template <typename From, typename To>
GpuStatus LaunchCast(const From* in, To* out, int64_t n, GpuStream stream) {
  if (n < 0) return GpuStatus::Error("cast has a negative element count");
  if (n == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  if constexpr (std::is_same<From, To>::value) {
    if (in == out) return GpuStatus::Ok();
    return internal::CudaStatus(
        cudaMemcpyAsync(out, in, n * sizeof(To), cudaMemcpyDeviceToDevice, s), "cast copy");
  } else {
    CastKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0, s>>>(in, out, n);
    return internal::LaunchStatus("Cast");
  }
}

template <typename T>
GpuStatus LaunchFill(T* out, int64_t n, T value, GpuStream stream) {
  if (n < 0) return GpuStatus::Error("fill has a negative element count");
  if (n == 0) return GpuStatus::Ok();
  FillKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0,
               internal::AsCudaStream(stream)>>>(out, n, value);
  return internal::LaunchStatus("Fill");
}

#define WEIR_CAST_FROM(From)                                                             \
  template GpuStatus LaunchCast<From, float>(const From*, float*, int64_t, GpuStream);     \
  template GpuStatus LaunchCast<From, int32_t>(const From*, int32_t*, int64_t, GpuStream); \
  template GpuStatus LaunchCast<From, int64_t>(const From*, int64_t*, int64_t, GpuStream); \
  template GpuStatus LaunchCast<From, bool>(const From*, bool*, int64_t, GpuStream);
WEIR_CAST_FROM(float)
WEIR_CAST_FROM(int32_t)
WEIR_CAST_FROM(int64_t)
WEIR_CAST_FROM(bool)
#undef WEIR_CAST_FROM

template GpuStatus LaunchFill<float>(float*, int64_t, float, GpuStream);
template GpuStatus LaunchFill<int32_t>(int32_t*, int64_t, int32_t, GpuStream);
template GpuStatus LaunchFill<int64_t>(int64_t*, int64_t, int64_t, GpuStream);
template GpuStatus LaunchFill<bool>(bool*, int64_t, bool, GpuStream);

}  // namespace gpu
}  // namespace weir
