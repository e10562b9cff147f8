// bias_add.h - BiasAdd for NHWC (bias along the last dimension) and NCHW (bias along
// dimension 1) layouts.
#ifndef WEIR_KERNELS_GPU_BIAS_ADD_H_
#define WEIR_KERNELS_GPU_BIAS_ADD_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// out[i] = in[i] + bias[channel(i)] with `in` viewed as [outer, channels, inner]: NHWC (and
// every rank-2 input) has inner = 1, NCHW has inner = H * W (the product of the dimensions
// after the channel one). `out` may equal `in`. T is float, int32_t or int64_t.
template <typename T>
GpuStatus LaunchBiasAdd(const T* in, const T* bias, T* out, int64_t outer, int64_t channels,
                        int64_t inner, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_BIAS_ADD_H_
