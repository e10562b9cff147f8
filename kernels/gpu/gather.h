// gather.h - GatherV2 along one axis (batch_dims = 0) with out-of-range indices reported.
//
// A GPU kernel cannot return an error, and reading its verdict back needs a host wait, which
// the executor avoids per node. So the launch is asynchronous: an out-of-range index yields
// zeros in the output (as TensorFlow's GPU kernel) and records its position in an 8-byte
// device slot; ReadGatherError waits for the stream and turns the slot into an error. A
// caller that can afford the wait (tests, eager paths) calls it right after the launch; the
// executor can check the slot when the step's event completes.
#ifndef WEIR_KERNELS_GPU_GATHER_H_
#define WEIR_KERNELS_GPU_GATHER_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// params is [outer, axis_size, inner], indices has num_indices values, out is
// [outer, num_indices, inner]. `error_slot` is 8 bytes of device memory (null: out-of-range
// indices are zero-filled silently); the launch resets it before the gather.
// T is float, int32_t, int64_t or bool; Index is int32_t or int64_t.
template <typename T, typename Index>
GpuStatus LaunchGatherV2(const T* params, int64_t outer, int64_t axis_size, int64_t inner,
                         const Index* indices, int64_t num_indices, T* out,
                         void* error_slot, GpuStream stream);

// Waits for `stream`, then reports the first out-of-range index the last gather recorded in
// `error_slot`, e.g. "indices[3] = 9 is not in [0, 5)", or ok.
template <typename Index>
GpuStatus ReadGatherError(const void* error_slot, const Index* indices, int64_t axis_size,
                          GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_GATHER_H_
