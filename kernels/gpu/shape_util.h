// shape_util.h - Host-side shape planning for the GPU launchers: broadcasting, reduction and
// transpose shapes reduced to their fewest dimensions before a kernel is chosen.
//
// Collapsing first keeps the kernels simple and fast: [64,1,1,128] + [128] becomes a rank-2
// row broadcast, a reduction over axes {1,2} of [8,16,32,4] becomes [outer=8, reduced=512,
// inner=4], and a transpose that moves whole blocks becomes a copy or a 2-D swap. Everything
// here is plain C++ on inline arrays (no allocation), tested on machines without a GPU.
#ifndef WEIR_KERNELS_GPU_SHAPE_UTIL_H_
#define WEIR_KERNELS_GPU_SHAPE_UTIL_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// NumPy broadcasting of two shapes; an error says which dimensions disagree.
GpuStatus BroadcastShapes(const GpuDims& lhs, const GpuDims& rhs, GpuDims* out);

// A binary op's operands in the collapsed output space. Strides are in elements, 0 where an
// operand is broadcast along that dimension.
struct BroadcastPlan {
  enum class Kind {
    kEmpty,      // the output has no elements
    kSameShape,  // both operands have the output's shape: one flat loop
    kLhsScalar,  // lhs has one element, rhs the output's shape
    kRhsScalar,  // rhs has one element, lhs the output's shape
    kGeneral,    // strided indexing over `rank` collapsed dimensions
  };
  Kind kind = Kind::kEmpty;
  int rank = 0;
  int64_t out_dims[kMaxGpuRank] = {};
  int64_t lhs_strides[kMaxGpuRank] = {};
  int64_t rhs_strides[kMaxGpuRank] = {};
  int64_t num_elements = 0;
  GpuDims out_shape;  // the uncollapsed broadcast shape
};
GpuStatus MakeBroadcastPlan(const GpuDims& lhs, const GpuDims& rhs, BroadcastPlan* plan);

// A reduction over a set of axes in collapsed form.
struct ReducePlan {
  enum class Kind {
    kEmptyOutput,   // the output has no elements: nothing to do
    kFillIdentity,  // the reduced extent is 0: every output is the reduction's identity
    kCopy,          // nothing is reduced (no axes, or only size-1 axes)
    kRow,           // [outer, reduced] with the reduced elements contiguous
    kColumn,        // [outer, reduced, inner] with inner > 1
    kGeneral,       // reduced and kept dimensions interleave: strided indexing
  };
  Kind kind = Kind::kEmptyOutput;
  int64_t outer = 1;
  int64_t reduced = 1;
  int64_t inner = 1;
  int64_t num_outputs = 0;
  // kGeneral: the collapsed kept and reduced dimensions (outermost first) with their strides
  // in the input, in elements.
  int kept_rank = 0;
  int64_t kept_dims[kMaxGpuRank] = {};
  int64_t kept_strides[kMaxGpuRank] = {};
  int reduced_rank = 0;
  int64_t reduced_dims[kMaxGpuRank] = {};
  int64_t reduced_strides[kMaxGpuRank] = {};
};
// `axes` may be negative (counted from the end) and may repeat; an axis outside
// [-rank, rank) is an error.
GpuStatus MakeReducePlan(const GpuDims& input, const int64_t* axes, int num_axes,
                         ReducePlan* plan);

// A transpose (out.dims[i] = in.dims[perm[i]]) with size-1 dimensions dropped and runs of
// dimensions that stay adjacent merged.
struct TransposePlan {
  enum class Kind {
    kEmpty,         // no elements
    kCopy,          // the permutation moves nothing after collapsing
    kSwapLastTwo,   // [batch, rows, cols] -> [batch, cols, rows]: the tiled kernel
    kGeneral,       // any other permutation: index arithmetic per element
  };
  Kind kind = Kind::kEmpty;
  int rank = 0;
  int64_t in_dims[kMaxGpuRank] = {};
  int perm[kMaxGpuRank] = {};
  int64_t num_elements = 0;
};
GpuStatus MakeTransposePlan(const GpuDims& input, const int* perm, int perm_size,
                            TransposePlan* plan);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_SHAPE_UTIL_H_
