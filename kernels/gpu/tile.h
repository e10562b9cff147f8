// tile.h - Tile: an input repeated `multiples[k]` times along each dimension k.
//
// The shape is collapsed first: a dimension that is not repeated (multiple 1) merges into the
// one before it, since out[o] = in[o % d] holds for the merged index too. What is left runs as
// one strided kernel, each output element finding its input offset by division; all multiples 1
// is a device copy.
#ifndef WEIR_KERNELS_GPU_TILE_H_
#define WEIR_KERNELS_GPU_TILE_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// out has dims[k] = in_shape.dims[k] * multiples[k] (multiples has in_shape.rank entries, none
// negative). `in` and `out` must not overlap. T is any type of 1, 4 or 8 bytes (instantiated
// for float, int32_t, int64_t, bool).
template <typename T>
GpuStatus LaunchTile(const T* in, const GpuDims& in_shape, const int64_t* multiples, T* out,
                     GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_TILE_H_
