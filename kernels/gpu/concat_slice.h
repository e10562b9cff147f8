// concat_slice.h - ConcatV2 along any axis, Slice/StridedSlice with normalized arguments, and
// constant padding.
#ifndef WEIR_KERNELS_GPU_CONCAT_SLICE_H_
#define WEIR_KERNELS_GPU_CONCAT_SLICE_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// Concatenation viewed as 2-D: input i is [outer, axis_sizes[i] * inner] and the output is
// [outer, sum(axis_sizes) * inner], where outer is the product of the dimensions before the
// axis and inner the product of those after it. Empty inputs may be null. T is float,
// int32_t, int64_t or bool.
template <typename T>
GpuStatus LaunchConcat(const T* const* inputs, const int64_t* axis_sizes, int num_inputs,
                       int64_t outer, int64_t inner, T* out, GpuStream stream);

// out[i0, ..., ik] = in[begin[0] + i0 * strides[0], ..., begin[k] + ik * strides[k]] for the
// output shape `out_shape` (same rank as the input). The caller has normalized begin, strides
// (non-zero, negative walks backwards) and the output shape as StridedSlice's shape function
// does, with shrink/new axes already folded into the shapes; every index read must lie inside
// the input, or an error says which dimension leaves it.
template <typename T>
GpuStatus LaunchStridedSlice(const T* in, const GpuDims& in_shape, const int64_t* begin,
                             const int64_t* strides, const GpuDims& out_shape, T* out,
                             GpuStream stream);

// Pad/PadV2: out has `out_shape`, in sits at offset `before[d]` along each dimension d (so
// out_shape.dims[d] = before[d] + in_shape.dims[d] + after[d]), everything else is `value`.
template <typename T>
GpuStatus LaunchPad(const T* in, const GpuDims& in_shape, const int64_t* before,
                    const GpuDims& out_shape, T value, T* out, GpuStream stream);

// Slice: StridedSlice with every stride 1 (begin and the output shape given).
template <typename T>
GpuStatus LaunchSlice(const T* in, const GpuDims& in_shape, const int64_t* begin,
                      const GpuDims& out_shape, T* out, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_CONCAT_SLICE_H_
