// reduction.cu - LaunchReduce: row, column, split-row and strided reduction kernels over a
// ReducePlan, one instantiation per (op, type).
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <string>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/reduction.h"
#include "kernels/gpu/shape_util.h"

namespace weir {
namespace gpu {
namespace {

template <ReduceOp kOp, typename T>
struct Reducer {
  __host__ __device__ static T Identity() {
    if constexpr (kOp == ReduceOp::kSum || kOp == ReduceOp::kMean) {
      return T(0);
    } else if constexpr (kOp == ReduceOp::kProd) {
      return T(1);
    } else if constexpr (kOp == ReduceOp::kMax) {
      return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                  : std::numeric_limits<T>::lowest();
    } else {
      return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                  : std::numeric_limits<T>::max();
    }
  }
  __device__ __forceinline__ T operator()(T a, T b) const {
    if constexpr (kOp == ReduceOp::kSum || kOp == ReduceOp::kMean) {
      return a + b;
    } else if constexpr (kOp == ReduceOp::kProd) {
      return a * b;
    } else if constexpr (kOp == ReduceOp::kMax) {
      // A NaN anywhere gives NaN, as the CPU's Max/Min (a > b ? a : b alone kept or dropped a
      // NaN depending on where it met the tree). a != a is false for integers.
      return (a > b || a != a) ? a : b;
    } else {
      return (a < b || a != a) ? a : b;
    }
  }
  // Applied once per output: Mean divides by the number of reduced elements.
  __device__ __forceinline__ T Finalize(T acc, int64_t count) const {
    if constexpr (kOp == ReduceOp::kMean) {
      return acc / static_cast<T>(count);
    } else {
      return acc;
    }
  }
};

constexpr int kWarpsPerBlock = 8;
constexpr int kBlockRowThreads = 512;
constexpr int64_t kShortRow = 1024;  // rows up to this length get one warp

// A warp per row of `cols` contiguous elements.
template <typename R, typename T>
__global__ void RowReduceWarp(R reducer, const T* in, T* out, int64_t rows, int64_t cols,
                              int64_t count, bool finalize) {
  const int lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  for (int64_t row = first; row < rows; row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    const T* p = in + row * cols;
    T acc = R::Identity();
    for (int64_t c = lane; c < cols; c += 32) acc = reducer(acc, p[c]);
    acc = internal::WarpReduce(acc, reducer);
    if (lane == 0) out[row] = finalize ? reducer.Finalize(acc, count) : acc;
  }
}

// A block per row; with `splits` > 1 each row is cut into that many chunks (blockIdx.y) and
// the partial results go to out[row * splits + chunk] for a second pass.
template <typename R, typename T>
__global__ void RowReduceBlock(R reducer, const T* in, T* out, int64_t rows, int64_t cols,
                               int64_t splits, int64_t count, bool finalize) {
  __shared__ T scratch[32];
  const int64_t chunk = (cols + splits - 1) / splits;
  const int64_t begin = blockIdx.y * chunk;
  const int64_t end = begin + chunk < cols ? begin + chunk : cols;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* p = in + row * cols;
    T acc = R::Identity();
    for (int64_t c = begin + threadIdx.x; c < end; c += blockDim.x) acc = reducer(acc, p[c]);
    acc = internal::BlockReduce(acc, reducer, R::Identity(), scratch);
    if (threadIdx.x == 0) {
      if (splits > 1) {
        out[row * splits + blockIdx.y] = acc;
      } else {
        out[row] = finalize ? reducer.Finalize(acc, count) : acc;
      }
    }
  }
}

// [outer, reduced, inner] with inner > 1: a block of 32 x blockDim.y threads owns 32
// neighbouring columns of one outer index; the rows of threads stride through `reduced`, then
// combine through shared memory. Reads are coalesced along inner. With `splits` > 1 the
// reduced extent is cut into that many chunks (blockIdx.y) and the partial results go to
// out[(o * splits + chunk) * inner + col], a [outer, splits, inner] input for a second pass.
constexpr int kColumnTileX = 32;
constexpr int kColumnMaxTileY = 32;

template <typename R, typename T>
__global__ void ColumnReduce(R reducer, const T* in, T* out, int64_t outer, int64_t reduced,
                             int64_t inner, int64_t splits, int64_t count) {
  __shared__ T tile[kColumnMaxTileY][kColumnTileX + 1];
  const int64_t inner_tiles = (inner + kColumnTileX - 1) / kColumnTileX;
  const int64_t chunk = (reduced + splits - 1) / splits;
  const int64_t begin = blockIdx.y * chunk;
  const int64_t end = begin + chunk < reduced ? begin + chunk : reduced;
  for (int64_t t = blockIdx.x; t < outer * inner_tiles; t += gridDim.x) {
    const int64_t o = t / inner_tiles;
    const int64_t col = (t % inner_tiles) * kColumnTileX + threadIdx.x;
    T acc = R::Identity();
    if (col < inner) {
      const T* p = in + o * reduced * inner + col;
      for (int64_t r = begin + threadIdx.y; r < end; r += blockDim.y) {
        acc = reducer(acc, p[r * inner]);
      }
    }
    tile[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0) {
      for (int y = 1; y < static_cast<int>(blockDim.y); ++y) {
        acc = reducer(acc, tile[y][threadIdx.x]);
      }
      if (col < inner) {
        if (splits > 1) {
          out[(o * splits + blockIdx.y) * inner + col] = acc;
        } else {
          out[o * inner + col] = reducer.Finalize(acc, count);
        }
      }
    }
    __syncthreads();
  }
}

struct GeneralIndexing {
  int kept_rank;
  int reduced_rank;
  int64_t kept_dims[kMaxGpuRank];
  int64_t kept_strides[kMaxGpuRank];
  int64_t reduced_dims[kMaxGpuRank];
  int64_t reduced_strides[kMaxGpuRank];
};

// Interleaved axes: a warp per output, lanes stride through the reduced index space.
template <typename R, typename T>
__global__ void GeneralReduce(R reducer, const T* in, T* out, int64_t num_outputs,
                              int64_t reduced, GeneralIndexing ix) {
  const int lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  for (int64_t o = first; o < num_outputs; o += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    int64_t base = 0, rest = o;
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {  // unrolled: indices known at compile time
      if (d >= ix.kept_rank) continue;
      base += (rest % ix.kept_dims[d]) * ix.kept_strides[d];
      rest /= ix.kept_dims[d];
    }
    T acc = R::Identity();
    for (int64_t r = lane; r < reduced; r += 32) {
      int64_t offset = base, rr = r;
#pragma unroll
      for (int d = kMaxGpuRank - 1; d >= 0; --d) {
        if (d >= ix.reduced_rank) continue;
        offset += (rr % ix.reduced_dims[d]) * ix.reduced_strides[d];
        rr /= ix.reduced_dims[d];
      }
      acc = reducer(acc, in[offset]);
    }
    acc = internal::WarpReduce(acc, reducer);
    if (lane == 0) out[o] = reducer.Finalize(acc, reduced);
  }
}

template <typename T>
__global__ void FillValue(T* out, int64_t n, T value) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = value;
  }
}

// Few long rows, or few column tiles over a long reduced extent, leave most SMs idle; such
// reductions are split in two passes when the caller gives a workspace. The targets aim at
// about 8 blocks per SM of an H100 (132 SMs).
constexpr int64_t kSplitTargetBlocks = 1024;
constexpr int64_t kRowSplitMinCols = 1 << 16;
constexpr int64_t kRowSplitMinChunk = 4096;
constexpr int64_t kColumnSplitMaxTiles = 264;
constexpr int64_t kColumnSplitMinChunk = 512;

int64_t ColumnTiles(const ReducePlan& plan) {
  return plan.outer * ((plan.inner + kColumnTileX - 1) / kColumnTileX);
}

// How many chunks each row (kRow) or column (kColumn) is cut into; 1 means a single pass.
int64_t Splits(const ReducePlan& plan) {
  int64_t splits = 1;
  if (plan.kind == ReducePlan::Kind::kRow) {
    if (plan.reduced < kRowSplitMinCols || plan.outer >= kSplitTargetBlocks / 4) return 1;
    splits = kSplitTargetBlocks / plan.outer;
    const int64_t max_by_chunk = plan.reduced / kRowSplitMinChunk;
    if (splits > max_by_chunk) splits = max_by_chunk;
  } else if (plan.kind == ReducePlan::Kind::kColumn) {
    const int64_t tiles = ColumnTiles(plan);
    if (tiles >= kColumnSplitMaxTiles) return 1;
    splits = kSplitTargetBlocks / tiles;
    const int64_t max_by_chunk = plan.reduced / kColumnSplitMinChunk;
    if (splits > max_by_chunk) splits = max_by_chunk;
  } else {
    return 1;
  }
  if (splits > 65535) splits = 65535;  // gridDim.y
  return splits < 2 ? 1 : splits;
}

size_t WorkspaceElements(const ReducePlan& plan, int64_t splits) {
  if (splits <= 1) return 0;
  return static_cast<size_t>(plan.outer * splits *
                             (plan.kind == ReducePlan::Kind::kColumn ? plan.inner : 1));
}

template <typename R, typename T>
void LaunchColumnReduce(R reducer, const T* in, T* out, int64_t outer, int64_t reduced,
                        int64_t inner, int64_t splits, int64_t count, cudaStream_t stream) {
  const int64_t tiles = outer * ((inner + kColumnTileX - 1) / kColumnTileX);
  const unsigned blocks = static_cast<unsigned>(tiles < (1 << 20) ? tiles : (1 << 20));
  // Fewer tiles than SMs times a few: taller blocks keep more loads in flight.
  const int tile_y = tiles * splits < 512 ? kColumnMaxTileY : 8;
  ColumnReduce<<<dim3(blocks, static_cast<unsigned>(splits)), dim3(kColumnTileX, tile_y), 0,
                 stream>>>(reducer, in, out, outer, reduced, inner, splits, count);
}

template <ReduceOp kOp, typename T>
GpuStatus Run(const ReducePlan& plan, const T* in, T* out, void* workspace,
              size_t workspace_bytes, cudaStream_t stream) {
  Reducer<kOp, T> reducer;
  using R = Reducer<kOp, T>;
  switch (plan.kind) {
    case ReducePlan::Kind::kEmptyOutput:
      return GpuStatus::Ok();
    case ReducePlan::Kind::kFillIdentity: {
      T value = R::Identity();
      if (kOp == ReduceOp::kMean) {
        value = std::numeric_limits<T>::has_quiet_NaN ? std::numeric_limits<T>::quiet_NaN()
                                                      : T(0);
      }
      FillValue<<<internal::BlocksFor(plan.num_outputs), internal::kThreadsPerBlock, 0,
                  stream>>>(out, plan.num_outputs, value);
      break;
    }
    case ReducePlan::Kind::kCopy:
      if (in != out) {
        return internal::CudaStatus(
            cudaMemcpyAsync(out, in, plan.num_outputs * sizeof(T), cudaMemcpyDeviceToDevice,
                            stream),
            "reduction copy");
      }
      return GpuStatus::Ok();
    case ReducePlan::Kind::kRow: {
      const int64_t rows = plan.outer, cols = plan.reduced;
      const int64_t splits = Splits(plan);
      if (splits > 1 && workspace != nullptr &&
          workspace_bytes >= WorkspaceElements(plan, splits) * sizeof(T)) {
        T* partial = static_cast<T*>(workspace);
        RowReduceBlock<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(splits)),
                         kBlockRowThreads, 0, stream>>>(reducer, in, partial, rows, cols,
                                                        splits, cols, false);
        RowReduceWarp<<<internal::BlocksFor(rows, kWarpsPerBlock), kWarpsPerBlock * 32, 0,
                        stream>>>(reducer, partial, out, rows, splits, cols, true);
      } else if (cols <= kShortRow) {
        RowReduceWarp<<<internal::BlocksFor(rows, kWarpsPerBlock), kWarpsPerBlock * 32, 0,
                        stream>>>(reducer, in, out, rows, cols, cols, true);
      } else {
        const unsigned blocks = static_cast<unsigned>(rows < (1 << 20) ? rows : (1 << 20));
        RowReduceBlock<<<dim3(blocks, 1), kBlockRowThreads, 0, stream>>>(
            reducer, in, out, rows, cols, 1, cols, true);
      }
      break;
    }
    case ReducePlan::Kind::kColumn: {
      const int64_t splits = Splits(plan);
      if (splits > 1 && workspace != nullptr &&
          workspace_bytes >= WorkspaceElements(plan, splits) * sizeof(T)) {
        T* partial = static_cast<T*>(workspace);  // [outer, splits, inner]
        LaunchColumnReduce(reducer, in, partial, plan.outer, plan.reduced, plan.inner, splits,
                           plan.reduced, stream);
        LaunchColumnReduce(reducer, partial, out, plan.outer, splits, plan.inner, 1,
                           plan.reduced, stream);
      } else {
        LaunchColumnReduce(reducer, in, out, plan.outer, plan.reduced, plan.inner, 1,
                           plan.reduced, stream);
      }
      break;
    }
    case ReducePlan::Kind::kGeneral: {
      GeneralIndexing ix;
      ix.kept_rank = plan.kept_rank;
      ix.reduced_rank = plan.reduced_rank;
      for (int d = 0; d < kMaxGpuRank; ++d) {
        ix.kept_dims[d] = plan.kept_dims[d];
        ix.kept_strides[d] = plan.kept_strides[d];
        ix.reduced_dims[d] = plan.reduced_dims[d];
        ix.reduced_strides[d] = plan.reduced_strides[d];
      }
      GeneralReduce<<<internal::BlocksFor(plan.num_outputs, kWarpsPerBlock),
                      kWarpsPerBlock * 32, 0, stream>>>(reducer, in, out, plan.num_outputs,
                                                        plan.reduced, ix);
      break;
    }
  }
  return internal::LaunchStatus(ReduceOpName(kOp));
}

}  // namespace

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "Sum";
    case ReduceOp::kMean: return "Mean";
    case ReduceOp::kMax: return "Max";
    case ReduceOp::kMin: return "Min";
    case ReduceOp::kProd: return "Prod";
  }
  return "unknown";
}

size_t ReduceWorkspaceBytes(const GpuDims& input, const int64_t* axes, int num_axes,
                            size_t element_size) {
  ReducePlan plan;
  if (!MakeReducePlan(input, axes, num_axes, &plan).ok()) return 0;
  return WorkspaceElements(plan, Splits(plan)) * element_size;
}

template <typename T>
GpuStatus LaunchReduce(ReduceOp op, const T* in, const GpuDims& in_shape, const int64_t* axes,
                       int num_axes, T* out, void* workspace, size_t workspace_bytes,
                       GpuStream stream) {
  ReducePlan plan;
  GpuStatus status = MakeReducePlan(in_shape, axes, num_axes, &plan);
  if (!status.ok()) return status;
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (op) {
    case ReduceOp::kSum: return Run<ReduceOp::kSum, T>(plan, in, out, workspace, workspace_bytes, s);
    case ReduceOp::kMean: return Run<ReduceOp::kMean, T>(plan, in, out, workspace, workspace_bytes, s);
    case ReduceOp::kMax: return Run<ReduceOp::kMax, T>(plan, in, out, workspace, workspace_bytes, s);
    case ReduceOp::kMin: return Run<ReduceOp::kMin, T>(plan, in, out, workspace, workspace_bytes, s);
    case ReduceOp::kProd: return Run<ReduceOp::kProd, T>(plan, in, out, workspace, workspace_bytes, s);
  }
  return GpuStatus::Error("unknown reduction");
}

#define WEIR_INSTANTIATE_REDUCE(T)                                                         \
  template GpuStatus LaunchReduce<T>(ReduceOp, const T*, const GpuDims&, const int64_t*, int, \
                                     T*, void*, size_t, GpuStream);
WEIR_INSTANTIATE_REDUCE(float)
WEIR_INSTANTIATE_REDUCE(int32_t)
WEIR_INSTANTIATE_REDUCE(int64_t)
#undef WEIR_INSTANTIATE_REDUCE

}  // namespace gpu
}  // namespace weir
