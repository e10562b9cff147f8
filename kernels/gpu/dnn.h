// dnn.h - Convolution, pooling and batch-norm inference on cuDNN's legacy API, NHWC float32:
// Conv2D / DepthwiseConv2dNative (groups), MaxPool / AvgPool, FusedBatchNorm in inference.
//
// Layouts: data is NHWC as TensorFlow keeps it by default; cuDNN is told so (CUDNN_TENSOR_NHWC),
// so nothing is transposed. cuDNN's NHWC filter layout is KRSC ([out, kh, kw, in / groups]),
// TensorFlow's is HWIO ([kh, kw, in / groups, out]); FilterHwioToKrsc (host, for a filter known
// when the plan is built) and LaunchFilterHwioToKrsc (device, per call) convert it. A depthwise
// filter [kh, kw, C, M] is the HWIO filter [kh, kw, 1, C * M] of a convolution with C groups:
// output channel c * M + m belongs to group c in both frameworks.
//
// Padding: cuDNN pads the same amount before and after; TensorFlow's SAME puts an odd element
// after, EXPLICIT may be anything. When they differ the input is copied into caller-provided
// scratch padded by the difference (zeros for convolution, -inf for MaxPool) and cuDNN pads
// the common part, so cuDNN's windows are exactly TensorFlow's. AvgPool counts only valid
// elements (CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING); with asymmetric padding it averages
// over whole windows instead and a small kernel rescales each output to its valid count.
//
// Precision: TF32 is off unless ConvParams::allow_tf32. cuDNN's CUDNN_DEFAULT_MATH permits
// TF32 tensor cores on Ampere and later, so "off" is CUDNN_FMA_MATH; "on" is
// CUDNN_DEFAULT_MATH (or the heuristic's CUDNN_TENSOR_OP_MATH), never
// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, which may round float32 data to FP16.
//
// No Abseil or cuDNN types here (callers compile without either); the cuDNN handle and plans
// are opaque. Without cuDNN in the build (WEIR_HAVE_CUDNN undefined) Create fails.
#ifndef WEIR_KERNELS_GPU_DNN_H_
#define WEIR_KERNELS_GPU_DNN_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/gpu/dnn_kernels.h"
#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// A 2-D convolution, NHWC input [batch, in_h, in_w, in_c], KRSC filter
// [out_c, filter_h, filter_w, in_c / groups], NHWC output [batch, out_h, out_w, out_c]. Paddings
// and output size are TensorFlow's (the caller computes them; a mismatch is an error).
struct ConvParams {
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t filter_h = 0, filter_w = 0;
  int64_t out_c = 0;
  int64_t groups = 1;  // in_c and out_c are multiples of it
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
  bool allow_tf32 = false;
};

// The direct kernel's description of a convolution (dnn_kernels.h): the same geometry, padding
// given by its top and left parts (the output size implies the rest).
DirectConvShape DirectConvShapeOf(const ConvParams& params);

enum class PoolMode {
  kMax,      // padding never wins
  kAverage,  // the mean over the window's elements inside the input (padding not counted)
};

// Pooling NHWC [batch, in_h, in_w, channels] into [batch, out_h, out_w, channels]; each padding
// must be smaller than the window (TensorFlow's rule, which keeps a valid element in each).
struct PoolParams {
  PoolMode mode = PoolMode::kMax;
  int64_t batch = 0, in_h = 0, in_w = 0, channels = 0;
  int64_t window_h = 1, window_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
};

// Batch norm in inference over NHWC [batch, h, w, channels] with per-channel scale, offset,
// mean and variance: y = (x - mean) / sqrt(variance + epsilon) * scale + offset.
struct BatchNormParams {
  int64_t batch = 0, h = 0, w = 0, channels = 0;
  double epsilon = 1e-4;
};

// A cuDNN handle, a device workspace for the convolution algorithms, and cached plans
// (descriptors and the chosen algorithm) per shape. Like GpuBlas: for one thread at a time (the
// caller serializes), bound per call to the given stream, created once per device and kept
// (creating a handle costs tens of milliseconds). The workspace is owned and fixed, so a call
// never allocates (as CUDA-graph capture requires): algorithms needing more are not chosen.
class GpuDnn {
 public:
  static constexpr size_t kDefaultWorkspaceBytes = size_t{64} << 20;

  // Fails (with the CUDA or cuDNN error) when no GPU can be used or the build has no cuDNN.
  static GpuStatus Create(std::unique_ptr<GpuDnn>* out,
                          size_t workspace_bytes = kDefaultWorkspaceBytes);
  // Uses `workspace` (device memory of `workspace_bytes`, kept alive by the caller longer than
  // this object) instead of allocating its own.
  static GpuStatus CreateBorrowing(std::unique_ptr<GpuDnn>* out, void* workspace,
                                   size_t workspace_bytes);
  ~GpuDnn();
  GpuDnn(const GpuDnn&) = delete;
  GpuDnn& operator=(const GpuDnn&) = delete;

  // Bytes of device scratch Conv2D / Pool need from the caller: the padded copy of the input
  // when the padding is asymmetric, else 0.
  static size_t ConvScratchBytes(const ConvParams& params);
  static size_t PoolScratchBytes(const PoolParams& params);

  // output = conv(input, filter) with `filter` in KRSC. `scratch` holds ConvScratchBytes.
  // The algorithm is cuDNN's heuristic choice (cudnnGetConvolutionForwardAlgorithm_v7), made
  // once per shape: the fastest expected one that fits the workspace and the math mode. Where
  // cuDNN has none (or declines every one at launch) a direct kernel computes it.
  GpuStatus Conv2D(const ConvParams& params, const float* input, const float* filter, float* output,
                   void* scratch, size_t scratch_bytes, GpuStream stream);

  // MaxPool / AvgPool; `scratch` holds PoolScratchBytes.
  GpuStatus Pool(const PoolParams& params, const float* input, float* output, void* scratch,
                 size_t scratch_bytes, GpuStream stream);

  // FusedBatchNorm with is_training=false; scale, offset, mean and variance hold `channels`
  // floats each. Where cuDNN declines the shape a plain kernel computes the same.
  GpuStatus BatchNormInference(const BatchNormParams& params, const float* x, const float* scale,
                               const float* offset, const float* mean, const float* variance,
                               float* y, GpuStream stream);

  // Shapes that went to the direct kernel so far (cuDNN had no algorithm for them).
  int64_t num_direct_plans() const { return num_direct_plans_; }
  // Tests: shapes planned from now on run on the direct kernel whatever cuDNN offers.
  void ForceDirectForTesting(bool force) { force_direct_ = force; }

 private:
  struct Plans;  // descriptors and algorithms per shape (dnn.cc)
  GpuStatus DirectConv(const ConvParams& params, const float* input, const float* filter,
                       float* output, GpuStream stream);

  GpuDnn();
  std::unique_ptr<Plans> plans_;
  void* handle_ = nullptr;  // cudnnHandle_t
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  bool owns_workspace_ = true;  // false after CreateBorrowing
  int64_t num_direct_plans_ = 0;
  bool force_direct_ = false;
};

// TensorFlow's HWIO filter [kh, kw, in, out] as cuDNN's KRSC [out, kh, kw, in], on the host
// (`hwio` and `krsc` hold kh * kw * in * out floats and must not overlap).
void FilterHwioToKrsc(const float* hwio, int64_t kh, int64_t kw, int64_t in, int64_t out,
                      float* krsc);
// The same on the device, enqueued on `stream`.
GpuStatus LaunchFilterHwioToKrsc(const float* hwio, int64_t kh, int64_t kw, int64_t in, int64_t out,
                                 float* krsc, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_DNN_H_
