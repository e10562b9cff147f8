// dnn_kernels.h - The small CUDA kernels around cuDNN's convolution, pooling and batch norm
// (dnn.h): padding an NHWC tensor, rescaling average pooling to TensorFlow's count, a plain
// per-channel batch norm, and a direct convolution for shapes cuDNN declines.
//
// cuDNN's legacy API pads symmetrically (the same amount before and after), while TensorFlow's
// SAME padding puts the odd element after and EXPLICIT padding may be anything. GpuDnn copies
// the input into a temporary padded by the difference and lets cuDNN pad the common part; these
// are the kernels for that copy and for the count correction average pooling then needs.
#ifndef WEIR_KERNELS_GPU_DNN_KERNELS_H_
#define WEIR_KERNELS_GPU_DNN_KERNELS_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// out [n, h + top + bottom, w + left + right, c] = `in` [n, h, w, c] surrounded by `value`.
// `in` and `out` must not overlap.
GpuStatus LaunchPadNhwc(const float* in, int64_t n, int64_t h, int64_t w, int64_t c, int64_t top,
                        int64_t bottom, int64_t left, int64_t right, float value, float* out,
                        GpuStream stream);

// The geometry of a pooling in the unpadded input's terms: output (oh, ow) covers input rows
// [oh * stride_h - pad_top, + window_h) and columns [ow * stride_w - pad_left, + window_w).
struct PoolWindow {
  int64_t in_h = 0, in_w = 0;
  int64_t window_h = 0, window_w = 0;
  int64_t stride_h = 0, stride_w = 0;
  int64_t pad_top = 0, pad_left = 0;
};

// y [n, out_h, out_w, c] holds window sums divided by window_h * window_w (cuDNN's average that
// counts padding); multiplies each by window_h * window_w / (the number of window elements
// inside the input), giving TensorFlow's average over the valid elements only.
GpuStatus LaunchAvgPoolExcludePadding(float* y, int64_t n, int64_t out_h, int64_t out_w, int64_t c,
                                      const PoolWindow& window, GpuStream stream);

// A grouped 2-D cross-correlation, NHWC input [batch, in_h, in_w, in_c], KRSC filter
// [out_c, filter_h, filter_w, in_c / groups], NHWC output [batch, out_h, out_w, out_c]; output
// (oh, ow) reads input rows oh * stride_h - pad_top + r * dilation_h (r < filter_h) and the
// same for columns, positions outside the input counting as zero.
struct DirectConvShape {
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t filter_h = 0, filter_w = 0, out_c = 0, groups = 1;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t out_h = 0, out_w = 0;
};

// The convolution computed directly, one output element per thread iteration, float
// accumulation in the filter's order: for shapes cuDNN has no algorithm for (GpuDnn::Conv2D
// falls back to it). Correct for any shape, slow for large ones.
GpuStatus LaunchDirectConvNhwc(const DirectConvShape& shape, const float* input,
                               const float* filter_krsc, float* output, GpuStream stream);

// y = (x - mean[c]) * scale[c] / sqrt(variance[c] + epsilon) + offset[c] over the last
// dimension (c channels) of `rows * c` elements; for when cuDNN declines a shape.
GpuStatus LaunchBatchNormInferenceNhwc(const float* x, const float* scale, const float* offset,
                                       const float* mean, const float* variance, float epsilon,
                                       int64_t rows, int64_t c, float* y, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_DNN_KERNELS_H_
