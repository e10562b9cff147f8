// tile.cu - LaunchTile: the collapsed shape, then a copy or one strided kernel.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/tile.h"

namespace weir {
namespace gpu {
namespace {

struct TileIndexing {
  int rank;
  int64_t out_dims[kMaxGpuRank];
  int64_t in_dims[kMaxGpuRank];
  int64_t in_strides[kMaxGpuRank];
};

template <typename T>
__global__ void TileKernel(const T* in, T* out, int64_t n, TileIndexing ix) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    int64_t rest = i, offset = 0;
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {  // unrolled: indices known at compile time
      if (d >= ix.rank) continue;
      const int64_t o = rest % ix.out_dims[d];
      rest /= ix.out_dims[d];
      offset += (o % ix.in_dims[d]) * ix.in_strides[d];
    }
    out[i] = in[offset];
  }
}

}  // namespace

template <typename T>
GpuStatus LaunchTile(const T* in, const GpuDims& in_shape, const int64_t* multiples, T* out,
                     GpuStream stream) {
  if (!in_shape.Valid()) {
    return GpuStatus::Error("tile input shape " + in_shape.ToString() +
                            " is invalid (rank <= 8, no negative dimension)");
  }
  int64_t n = 1;
  for (int k = 0; k < in_shape.rank; ++k) {
    if (multiples[k] < 0) {
      return GpuStatus::Error("tile multiple " + std::to_string(multiples[k]) + " of dimension " +
                              std::to_string(k) + " is negative");
    }
    n *= in_shape.dims[k] * multiples[k];
  }
  if (n == 0) return GpuStatus::Ok();
  // Collapse (every size is now positive): a dimension of size 1 repeated once vanishes, and a
  // dimension repeated once merges into the previous one, which keeps its multiple: with d the
  // size of the later dimension and o < d its index, (p * d + o) % (D * d) = (p % D) * d + o.
  TileIndexing ix;
  ix.rank = 0;
  for (int k = 0; k < in_shape.rank; ++k) {
    const int64_t d = in_shape.dims[k], m = multiples[k];
    if (d == 1 && m == 1) continue;
    if (m == 1 && ix.rank > 0) {
      ix.in_dims[ix.rank - 1] *= d;
      ix.out_dims[ix.rank - 1] *= d;
      continue;
    }
    ix.in_dims[ix.rank] = d;
    ix.out_dims[ix.rank] = d * m;
    ++ix.rank;
  }
  cudaStream_t s = internal::AsCudaStream(stream);
  // Nothing repeated: at most one dimension is left, of multiple 1 (or none, for one element).
  if (ix.rank == 0 || (ix.rank == 1 && ix.in_dims[0] == ix.out_dims[0])) {
    return internal::CudaStatus(
        cudaMemcpyAsync(out, in, n * sizeof(T), cudaMemcpyDeviceToDevice, s), "tile copy");
  }
  int64_t stride = 1;
  for (int d = ix.rank - 1; d >= 0; --d) {
    ix.in_strides[d] = stride;
    stride *= ix.in_dims[d];
  }
  TileKernel<T><<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0, s>>>(in, out, n, ix);
  return internal::LaunchStatus("Tile");
}

template GpuStatus LaunchTile<float>(const float*, const GpuDims&, const int64_t*, float*,
                                     GpuStream);
template GpuStatus LaunchTile<int32_t>(const int32_t*, const GpuDims&, const int64_t*, int32_t*,
                                       GpuStream);
template GpuStatus LaunchTile<int64_t>(const int64_t*, const GpuDims&, const int64_t*, int64_t*,
                                       GpuStream);
template GpuStatus LaunchTile<bool>(const bool*, const GpuDims&, const int64_t*, bool*, GpuStream);

}  // namespace gpu
}  // namespace weir
