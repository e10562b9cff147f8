// cast_fill.h - Cast between float, int32, int64 and bool, and Fill.
#ifndef WEIR_KERNELS_GPU_CAST_FILL_H_
#define WEIR_KERNELS_GPU_CAST_FILL_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// out[i] = static_cast<To>(in[i]) for From, To in {float, int32_t, int64_t, bool}: float to
// integer truncates toward zero (saturating, NaN gives 0, as the GPU's conversion does), any
// type to bool is `!= 0`.
template <typename From, typename To>
GpuStatus LaunchCast(const From* in, To* out, int64_t num_elements, GpuStream stream);

// out[i] = value. T is float, int32_t, int64_t or bool.
template <typename T>
GpuStatus LaunchFill(T* out, int64_t num_elements, T value, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_CAST_FILL_H_
