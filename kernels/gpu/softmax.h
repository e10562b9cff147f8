// softmax.h - Softmax and LogSoftmax over the last axis of a [rows, cols] view.
//
// Numerically stable (the row's maximum is subtracted before exp). Rows of up to 1024 values
// get one warp each, longer rows one block each.
#ifndef WEIR_KERNELS_GPU_SOFTMAX_H_
#define WEIR_KERNELS_GPU_SOFTMAX_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// `in` and `out` are float [rows, cols] (cols = the last dimension, rows = the product of the
// others) and may be the same buffer. rows * cols == 0 does nothing.
GpuStatus LaunchSoftmax(const float* in, float* out, int64_t rows, int64_t cols, bool log,
                        GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_SOFTMAX_H_
