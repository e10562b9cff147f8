// concat_slice.cu - LaunchConcat (a 2-D copy per input), LaunchStridedSlice and LaunchPad
// (indexing kernels over the output).
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/gpu/concat_slice.h"
#include "kernels/gpu/cuda_helpers.cuh"

namespace weir {
namespace gpu {
namespace {

// Copies a [rows, width] block into the output of row length out_width at column offset.
template <typename T>
__global__ void CopyBlock(const T* in, T* out, int64_t rows, int64_t width, int64_t out_width,
                          int64_t offset) {
  const int64_t n = rows * width;
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    const int64_t r = i / width;
    out[r * out_width + offset + (i - r * width)] = in[i];
  }
}

struct SliceIndexing {
  int rank;
  int64_t out_dims[kMaxGpuRank];
  int64_t in_strides[kMaxGpuRank];  // input stride times the slice stride, per dimension
  int64_t base;                     // the offset of the first element read
};

template <typename T>
__global__ void StridedSliceKernel(const T* in, T* out, int64_t n, SliceIndexing ix) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    int64_t rest = i, offset = ix.base;
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {  // unrolled: indices known at compile time
      if (d >= ix.rank) continue;
      offset += (rest % ix.out_dims[d]) * ix.in_strides[d];
      rest /= ix.out_dims[d];
    }
    out[i] = in[offset];
  }
}

struct PadIndexing {
  int rank;
  int64_t out_dims[kMaxGpuRank];
  int64_t in_dims[kMaxGpuRank];
  int64_t before[kMaxGpuRank];
};

template <typename T>
__global__ void PadKernel(const T* in, T* out, int64_t n, PadIndexing ix, T value) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    int64_t rest = i, offset = 0, in_stride = 1;
    bool inside = true;
#pragma unroll
    for (int d = kMaxGpuRank - 1; d >= 0; --d) {
      if (d >= ix.rank) continue;
      const int64_t at = rest % ix.out_dims[d] - ix.before[d];
      rest /= ix.out_dims[d];
      inside = inside && at >= 0 && at < ix.in_dims[d];
      offset += at * in_stride;
      in_stride *= ix.in_dims[d];
    }
    out[i] = inside ? in[offset] : value;
  }
}

}  // namespace

template <typename T>
GpuStatus LaunchPad(const T* in, const GpuDims& in_shape, const int64_t* before,
                    const GpuDims& out_shape, T value, T* out, GpuStream stream) {
  if (!in_shape.Valid() || !out_shape.Valid() || in_shape.rank != out_shape.rank) {
    return GpuStatus::Error("pad expects input and output shapes of one rank, found " +
                            in_shape.ToString() + " and " + out_shape.ToString());
  }
  PadIndexing ix;
  ix.rank = in_shape.rank;
  for (int d = 0; d < in_shape.rank; ++d) {
    if (before[d] < 0 || before[d] + in_shape.dims[d] > out_shape.dims[d]) {
      return GpuStatus::Error("pad dimension " + std::to_string(d) + " puts " +
                              std::to_string(in_shape.dims[d]) + " elements at " +
                              std::to_string(before[d]) + " in " +
                              std::to_string(out_shape.dims[d]));
    }
    ix.out_dims[d] = out_shape.dims[d];
    ix.in_dims[d] = in_shape.dims[d];
    ix.before[d] = before[d];
  }
  const int64_t n = out_shape.NumElements();
  if (n == 0) return GpuStatus::Ok();
  PadKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0,
              internal::AsCudaStream(stream)>>>(in, out, n, ix, value);
  return internal::LaunchStatus("Pad");
}

template <typename T>
GpuStatus LaunchConcat(const T* const* inputs, const int64_t* axis_sizes, int num_inputs,
                       int64_t outer, int64_t inner, T* out, GpuStream stream) {
  if (outer < 0 || inner < 0) return GpuStatus::Error("concat has a negative dimension");
  int64_t total = 0;
  for (int i = 0; i < num_inputs; ++i) {
    if (axis_sizes[i] < 0) {
      return GpuStatus::Error("concat input " + std::to_string(i) +
                              " has a negative size along the axis");
    }
    total += axis_sizes[i];
  }
  const int64_t out_width = total * inner;
  if (outer == 0 || out_width == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  int64_t offset = 0;
  for (int i = 0; i < num_inputs; ++i) {
    const int64_t width = axis_sizes[i] * inner;
    if (width == 0) continue;
    if (outer == 1) {
      GpuStatus st = internal::CudaStatus(
          cudaMemcpyAsync(out + offset, inputs[i], width * sizeof(T), cudaMemcpyDeviceToDevice,
                          s),
          "concat copy");
      if (!st.ok()) return st;
    } else {
      CopyBlock<<<internal::BlocksFor(outer * width), internal::kThreadsPerBlock, 0, s>>>(
          inputs[i], out, outer, width, out_width, offset);
    }
    offset += width;
  }
  return internal::LaunchStatus("ConcatV2");
}

template <typename T>
GpuStatus LaunchStridedSlice(const T* in, const GpuDims& in_shape, const int64_t* begin,
                             const int64_t* strides, const GpuDims& out_shape, T* out,
                             GpuStream stream) {
  if (!in_shape.Valid() || !out_shape.Valid() || in_shape.rank != out_shape.rank) {
    return GpuStatus::Error("strided slice expects input and output shapes of one rank, found " +
                            in_shape.ToString() + " and " + out_shape.ToString());
  }
  const int64_t n = out_shape.NumElements();
  if (n == 0) return GpuStatus::Ok();
  SliceIndexing ix;
  ix.rank = in_shape.rank;
  ix.base = 0;
  int64_t stride = 1;
  for (int d = in_shape.rank - 1; d >= 0; --d) {
    const int64_t first = begin[d];
    const int64_t last = begin[d] + (out_shape.dims[d] - 1) * strides[d];
    if (strides[d] == 0 || first < 0 || first >= in_shape.dims[d] || last < 0 ||
        last >= in_shape.dims[d]) {
      return GpuStatus::Error("strided slice dimension " + std::to_string(d) + " reads [" +
                              std::to_string(first) + " .. " + std::to_string(last) +
                              "] with stride " + std::to_string(strides[d]) +
                              ", expected indices in [0, " + std::to_string(in_shape.dims[d]) +
                              ")");
    }
    ix.out_dims[d] = out_shape.dims[d];
    ix.in_strides[d] = stride * strides[d];
    ix.base += first * stride;
    stride *= in_shape.dims[d];
  }
  StridedSliceKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0,
                       internal::AsCudaStream(stream)>>>(in, out, n, ix);
  return internal::LaunchStatus("StridedSlice");
}

template <typename T>
GpuStatus LaunchSlice(const T* in, const GpuDims& in_shape, const int64_t* begin,
                      const GpuDims& out_shape, T* out, GpuStream stream) {
  const int64_t ones[kMaxGpuRank] = {1, 1, 1, 1, 1, 1, 1, 1};
  return LaunchStridedSlice(in, in_shape, begin, ones, out_shape, out, stream);
}

#define WEIR_INSTANTIATE(T)                                                                   \
  template GpuStatus LaunchConcat<T>(const T* const*, const int64_t*, int, int64_t, int64_t,  \
                                     T*, GpuStream);                                          \
  template GpuStatus LaunchStridedSlice<T>(const T*, const GpuDims&, const int64_t*,          \
                                           const int64_t*, const GpuDims&, T*, GpuStream);    \
  template GpuStatus LaunchSlice<T>(const T*, const GpuDims&, const int64_t*, const GpuDims&, \
                                    T*, GpuStream);                                          \
  template GpuStatus LaunchPad<T>(const T*, const GpuDims&, const int64_t*, const GpuDims&, T,  \
                                  T*, GpuStream);
WEIR_INSTANTIATE(float)
WEIR_INSTANTIATE(int32_t)
WEIR_INSTANTIATE(int64_t)
WEIR_INSTANTIATE(bool)
#undef WEIR_INSTANTIATE

}  // namespace gpu
}  // namespace weir
