// transpose.h - Transpose for any permutation of up to 8 dimensions.
//
// The permutation is collapsed first (shape_util.h's TransposePlan): one that moves nothing
// becomes a device copy, a swap of the last two (merged) dimensions runs a 32x32 tiled kernel
// through shared memory so reads and writes are both coalesced, anything else computes the
// input offset per output element.
#ifndef WEIR_KERNELS_GPU_TRANSPOSE_H_
#define WEIR_KERNELS_GPU_TRANSPOSE_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// out has dims[i] = in_shape.dims[perm[i]]. `in` and `out` must not overlap. T is any type of
// 1, 4 or 8 bytes (instantiated for float, int32_t, int64_t, bool).
template <typename T>
GpuStatus LaunchTranspose(const T* in, const GpuDims& in_shape, const int* perm, T* out,
                          GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_TRANSPOSE_H_
