// dnn_kernels.cu - Padding, the average-pooling count correction, a plain batch norm and a
// direct convolution, the CUDA kernels that GpuDnn (dnn.cc) runs around cuDNN. All are
// grid-stride loops over the output, one element per iteration: memory-bound copies that need
// nothing cleverer, and a fallback convolution that only has to be right.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/dnn_kernels.h"

namespace weir {
namespace gpu {
namespace {

__global__ void PadNhwcKernel(const float* in, int64_t h, int64_t w, int64_t c, int64_t top,
                              int64_t left, int64_t out_h, int64_t out_w, float value, float* out,
                              int64_t total) {
  for (int64_t i = internal::GlobalThreadIndex(); i < total; i += internal::GlobalThreadCount()) {
    const int64_t ch = i % c;
    const int64_t x = (i / c) % out_w;
    const int64_t y = (i / (c * out_w)) % out_h;
    const int64_t b = i / (c * out_w * out_h);
    const int64_t iy = y - top;
    const int64_t ix = x - left;
    out[i] =
        (iy >= 0 && iy < h && ix >= 0 && ix < w) ? in[((b * h + iy) * w + ix) * c + ch] : value;
  }
}

// Elements of [start, start + window) inside [0, size).
__device__ __forceinline__ int64_t Inside(int64_t start, int64_t window, int64_t size) {
  const int64_t lo = start > 0 ? start : 0;
  const int64_t hi = start + window < size ? start + window : size;
  return hi > lo ? hi - lo : 0;
}

__global__ void AvgPoolExcludePaddingKernel(float* y, int64_t out_h, int64_t out_w, int64_t c,
                                            PoolWindow win, int64_t total) {
  const float window_size = static_cast<float>(win.window_h * win.window_w);
  for (int64_t i = internal::GlobalThreadIndex(); i < total; i += internal::GlobalThreadCount()) {
    const int64_t ow = (i / c) % out_w;
    const int64_t oh = (i / (c * out_w)) % out_h;
    const int64_t rows = Inside(oh * win.stride_h - win.pad_top, win.window_h, win.in_h);
    const int64_t cols = Inside(ow * win.stride_w - win.pad_left, win.window_w, win.in_w);
    // TensorFlow's windows always hold a valid element (padding < window); guard anyway.
    const int64_t count = rows * cols > 0 ? rows * cols : 1;
    y[i] = y[i] * (window_size / static_cast<float>(count));
  }
}

__global__ void BatchNormInferenceKernel(const float* x, const float* scale, const float* offset,
                                         const float* mean, const float* variance, float epsilon,
                                         int64_t c, float* y, int64_t total) {
  for (int64_t i = internal::GlobalThreadIndex(); i < total; i += internal::GlobalThreadCount()) {
    const int64_t ch = i % c;
    // The CPU kernel's order: factor = scale / sqrt(var + eps), shift = offset - mean * factor.
    const float factor = scale[ch] / sqrtf(variance[ch] + epsilon);
    const float shift = offset[ch] - mean[ch] * factor;
    y[i] = x[i] * factor + shift;
  }
}

__global__ void DirectConvNhwcKernel(const float* in, const float* filter, float* out,
                                     DirectConvShape s, int64_t total) {
  const int64_t in_per_group = s.in_c / s.groups;
  const int64_t out_per_group = s.out_c / s.groups;
  for (int64_t i = internal::GlobalThreadIndex(); i < total; i += internal::GlobalThreadCount()) {
    const int64_t oc = i % s.out_c;
    const int64_t ow = (i / s.out_c) % s.out_w;
    const int64_t oh = (i / (s.out_c * s.out_w)) % s.out_h;
    const int64_t b = i / (s.out_c * s.out_w * s.out_h);
    const int64_t first_c = (oc / out_per_group) * in_per_group;
    const float* f = filter + oc * s.filter_h * s.filter_w * in_per_group;
    float acc = 0.0f;
    for (int64_t r = 0; r < s.filter_h; ++r) {
      const int64_t ih = oh * s.stride_h - s.pad_top + r * s.dilation_h;
      if (ih < 0 || ih >= s.in_h) continue;
      for (int64_t q = 0; q < s.filter_w; ++q) {
        const int64_t iw = ow * s.stride_w - s.pad_left + q * s.dilation_w;
        if (iw < 0 || iw >= s.in_w) continue;
        const float* x = in + ((b * s.in_h + ih) * s.in_w + iw) * s.in_c + first_c;
        const float* w = f + (r * s.filter_w + q) * in_per_group;
        for (int64_t c = 0; c < in_per_group; ++c) acc = fmaf(x[c], w[c], acc);
      }
    }
    out[i] = acc;
  }
}

}  // namespace

GpuStatus LaunchDirectConvNhwc(const DirectConvShape& s, const float* input,
                               const float* filter_krsc, float* output, GpuStream stream) {
  const bool ok = s.batch >= 0 && s.in_h >= 0 && s.in_w >= 0 && s.in_c >= 0 && s.out_c >= 0 &&
                  s.filter_h > 0 && s.filter_w > 0 && s.groups > 0 && s.in_c % s.groups == 0 &&
                  s.out_c % s.groups == 0 && s.stride_h > 0 && s.stride_w > 0 &&
                  s.dilation_h > 0 && s.dilation_w > 0 && s.pad_top >= 0 && s.pad_left >= 0 &&
                  s.out_h >= 0 && s.out_w >= 0;
  if (!ok) {
    return GpuStatus::Error(
        "direct convolution: sizes, strides and dilations must be positive, paddings "
        "non-negative, and channels multiples of the group count");
  }
  const int64_t total = s.batch * s.out_h * s.out_w * s.out_c;
  if (total == 0) return GpuStatus::Ok();
  DirectConvNhwcKernel<<<internal::BlocksFor(total), internal::kThreadsPerBlock, 0,
                         internal::AsCudaStream(stream)>>>(input, filter_krsc, output, s, total);
  return internal::LaunchStatus("DirectConvNhwcKernel");
}

GpuStatus LaunchPadNhwc(const float* in, int64_t n, int64_t h, int64_t w, int64_t c, int64_t top,
                        int64_t bottom, int64_t left, int64_t right, float value, float* out,
                        GpuStream stream) {
  if (n < 0 || h < 0 || w < 0 || c < 0 || top < 0 || bottom < 0 || left < 0 || right < 0) {
    return GpuStatus::Error("padding an NHWC tensor needs non-negative sizes and paddings");
  }
  const int64_t out_h = h + top + bottom, out_w = w + left + right;
  const int64_t total = n * out_h * out_w * c;
  if (total == 0) return GpuStatus::Ok();
  PadNhwcKernel<<<internal::BlocksFor(total), internal::kThreadsPerBlock, 0,
                  internal::AsCudaStream(stream)>>>(in, h, w, c, top, left, out_h, out_w, value,
                                                    out, total);
  return internal::LaunchStatus("PadNhwcKernel");
}

GpuStatus LaunchAvgPoolExcludePadding(float* y, int64_t n, int64_t out_h, int64_t out_w, int64_t c,
                                      const PoolWindow& window, GpuStream stream) {
  if (n < 0 || out_h < 0 || out_w < 0 || c < 0 || window.window_h < 1 || window.window_w < 1) {
    return GpuStatus::Error("average pooling correction needs non-negative sizes and a window");
  }
  const int64_t total = n * out_h * out_w * c;
  if (total == 0) return GpuStatus::Ok();
  AvgPoolExcludePaddingKernel<<<internal::BlocksFor(total), internal::kThreadsPerBlock, 0,
                                internal::AsCudaStream(stream)>>>(y, out_h, out_w, c, window,
                                                                  total);
  return internal::LaunchStatus("AvgPoolExcludePaddingKernel");
}

GpuStatus LaunchBatchNormInferenceNhwc(const float* x, const float* scale, const float* offset,
                                       const float* mean, const float* variance, float epsilon,
                                       int64_t rows, int64_t c, float* y, GpuStream stream) {
  if (rows < 0 || c < 0) return GpuStatus::Error("batch norm needs non-negative sizes");
  const int64_t total = rows * c;
  if (total == 0) return GpuStatus::Ok();
  BatchNormInferenceKernel<<<internal::BlocksFor(total), internal::kThreadsPerBlock, 0,
                             internal::AsCudaStream(stream)>>>(x, scale, offset, mean, variance,
                                                               epsilon, c, y, total);
  return internal::LaunchStatus("BatchNormInferenceKernel");
}

}  // namespace gpu
}  // namespace weir
