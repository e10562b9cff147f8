// reduction.h - Launchers for Sum/Mean/Max/Min/Prod over any set of axes and for ArgMax/ArgMin
// over one axis.
//
// The axes are collapsed first (shape_util.h's ReducePlan) into [outer, reduced, inner]:
// inner == 1 is a row reduction (a warp per short row, a block per long row), inner > 1 a
// column reduction (a 32-wide tile of columns per block, coalesced). When that leaves most of
// the GPU idle (a few very long rows, a few column tiles over a long reduced extent) the
// reduced extent is split over more blocks in two passes through a caller-provided workspace. Axes that interleave with kept
// dimensions (e.g. {0, 2} of a rank-3 input) take a strided kernel, a warp per output.
#ifndef WEIR_KERNELS_GPU_REDUCTION_H_
#define WEIR_KERNELS_GPU_REDUCTION_H_

#include <cstddef>
#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

enum class ReduceOp { kSum, kMean, kMax, kMin, kProd };

const char* ReduceOpName(ReduceOp op);

// Bytes of device workspace LaunchReduce can use for this reduction of T (0 when it needs
// none). Less (or none) still works, only slower for a few very long rows: e.g. summing all of
// a 16M-element tensor with one block would use one SM of the card.
size_t ReduceWorkspaceBytes(const GpuDims& input, const int64_t* axes, int num_axes,
                            size_t element_size);

// out = reduce(in) over `axes` (negative axes count from the end; repeats are fine). The
// output holds the kept dimensions in order (keep_dims only changes the shape, not the data).
// A reduction over an empty extent gives the identity: 0 for Sum, 1 for Prod, -inf / +inf
// (the lowest / highest integer) for Max / Min, NaN for a float Mean (0 for an integer one).
// Integer Mean divides with truncation as TensorFlow. T is float, int32_t or int64_t.
template <typename T>
GpuStatus LaunchReduce(ReduceOp op, const T* in, const GpuDims& in_shape, const int64_t* axes,
                       int num_axes, T* out, void* workspace, size_t workspace_bytes,
                       GpuStream stream);

enum class ArgReduceOp { kArgMax, kArgMin };

// out[outer, inner] = the index along `axis` of the largest (smallest) element, the first one
// on ties, as TensorFlow. An axis of size 0 is an error. T is float, int32_t or int64_t.
template <typename T>
GpuStatus LaunchArgReduce(ArgReduceOp op, const T* in, const GpuDims& in_shape, int axis,
                          int64_t* out, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_REDUCTION_H_
