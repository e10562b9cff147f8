// transpose.cu - LaunchTranspose: copy, tiled last-two-dims swap, or per-element indexing.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/shape_util.h"
#include "kernels/gpu/transpose.h"

namespace weir {
namespace gpu {
namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;  // a 32x8 block moves a 32x32 tile, 4 elements per thread

// in is [batch, rows, cols], out is [batch, cols, rows]. Grid: x over column tiles, y over
// row tiles, z over batches (each a grid-stride loop, so any size fits the grid limits).
template <typename T>
__global__ void TransposeTiled(const T* in, T* out, int64_t batch, int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];  // +1 keeps the column reads free of bank conflicts
  const int64_t col_tiles = (cols + kTile - 1) / kTile;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const T* src = in + b * rows * cols;
    T* dst = out + b * rows * cols;
    for (int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y) {
      for (int64_t ct = blockIdx.x; ct < col_tiles; ct += gridDim.x) {
        const int64_t r0 = rt * kTile, c0 = ct * kTile;
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
          const int64_t r = r0 + k, c = c0 + threadIdx.x;
          if (r < rows && c < cols) tile[k][threadIdx.x] = src[r * cols + c];
        }
        __syncthreads();
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
          const int64_t c = c0 + k, r = r0 + threadIdx.x;  // out row c, out column r
          if (r < rows && c < cols) dst[c * rows + r] = tile[threadIdx.x][k];
        }
        __syncthreads();
      }
    }
  }
}

struct TransposeIndexing {
  int rank;
  int64_t out_dims[kMaxGpuRank];
  int64_t in_strides[kMaxGpuRank];  // the input stride of each output dimension
};

template <typename T>
__global__ void TransposeGeneral(const T* in, T* out, int64_t n, TransposeIndexing ix) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    int64_t rest = i, offset = 0;
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {  // unrolled: indices known at compile time
      if (d >= ix.rank) continue;
      offset += (rest % ix.out_dims[d]) * ix.in_strides[d];
      rest /= ix.out_dims[d];
    }
    out[i] = in[offset];
  }
}

unsigned int Clamp(int64_t v, int64_t limit) {
  return static_cast<unsigned int>(v < 1 ? 1 : (v > limit ? limit : v));
}

}  // namespace

template <typename T>
GpuStatus LaunchTranspose(const T* in, const GpuDims& in_shape, const int* perm, T* out,
                          GpuStream stream) {
  TransposePlan plan;
  GpuStatus status = MakeTransposePlan(in_shape, perm, in_shape.rank, &plan);
  if (!status.ok()) return status;
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (plan.kind) {
    case TransposePlan::Kind::kEmpty:
      return GpuStatus::Ok();
    case TransposePlan::Kind::kCopy:
      return internal::CudaStatus(cudaMemcpyAsync(out, in, plan.num_elements * sizeof(T),
                                                  cudaMemcpyDeviceToDevice, s),
                                  "transpose copy");
    case TransposePlan::Kind::kSwapLastTwo: {
      const int64_t batch = plan.rank == 3 ? plan.in_dims[0] : 1;
      const int64_t rows = plan.in_dims[plan.rank - 2];
      const int64_t cols = plan.in_dims[plan.rank - 1];
      const dim3 grid(Clamp((cols + kTile - 1) / kTile, 1 << 20),
                      Clamp((rows + kTile - 1) / kTile, 65535), Clamp(batch, 65535));
      TransposeTiled<<<grid, dim3(kTile, kTileRows), 0, s>>>(in, out, batch, rows, cols);
      break;
    }
    case TransposePlan::Kind::kGeneral: {
      TransposeIndexing ix;
      ix.rank = plan.rank;
      int64_t in_strides[kMaxGpuRank];
      int64_t stride = 1;
      for (int d = plan.rank - 1; d >= 0; --d) {
        in_strides[d] = stride;
        stride *= plan.in_dims[d];
      }
      for (int d = 0; d < plan.rank; ++d) {
        ix.out_dims[d] = plan.in_dims[plan.perm[d]];
        ix.in_strides[d] = in_strides[plan.perm[d]];
      }
      TransposeGeneral<<<internal::BlocksFor(plan.num_elements), internal::kThreadsPerBlock, 0,
                         s>>>(in, out, plan.num_elements, ix);
      break;
    }
  }
  return internal::LaunchStatus("Transpose");
}

template GpuStatus LaunchTranspose<float>(const float*, const GpuDims&, const int*, float*,
                                          GpuStream);
template GpuStatus LaunchTranspose<int32_t>(const int32_t*, const GpuDims&, const int*,
                                            int32_t*, GpuStream);
template GpuStatus LaunchTranspose<int64_t>(const int64_t*, const GpuDims&, const int*,
                                            int64_t*, GpuStream);
template GpuStatus LaunchTranspose<bool>(const bool*, const GpuDims&, const int*, bool*,
                                         GpuStream);

}  // namespace gpu
}  // namespace weir
