// dnn.cc - GpuDnn: NHWC float32 convolution, pooling and batch-norm inference on cuDNN's legacy
// API, with TensorFlow's asymmetric padding made symmetric through a padded copy (dnn.h).
//
// Plans (descriptors and, for convolutions, the algorithm) are built the first time a shape is
// seen and kept: cuDNN's heuristic query costs far more host time than a small launch. A call
// then binds the handle to the caller's stream, enqueues the padding copy if one is needed and
// the cuDNN call, and returns; nothing here waits for the GPU.
#include "kernels/gpu/dnn.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#ifdef WEIR_HAVE_CUDNN
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "kernels/gpu/dnn_kernels.h"
#include "kernels/gpu/transpose.h"
#endif

namespace weir {
namespace gpu {

DirectConvShape DirectConvShapeOf(const ConvParams& p) {
  DirectConvShape s;
  s.batch = p.batch;
  s.in_h = p.in_h;
  s.in_w = p.in_w;
  s.in_c = p.in_c;
  s.filter_h = p.filter_h;
  s.filter_w = p.filter_w;
  s.out_c = p.out_c;
  s.groups = p.groups;
  s.stride_h = p.stride_h;
  s.stride_w = p.stride_w;
  s.dilation_h = p.dilation_h;
  s.dilation_w = p.dilation_w;
  s.pad_top = p.pad_top;
  s.pad_left = p.pad_left;
  s.out_h = p.out_h;
  s.out_w = p.out_w;
  return s;
}
namespace {

// A padding split into the part cuDNN applies on both sides and the excess on either side,
// which goes into the padded copy of the input.
struct PaddingSplit {
  int64_t common = 0;
  int64_t extra_before = 0;
  int64_t extra_after = 0;
  bool symmetric() const { return extra_before == 0 && extra_after == 0; }
};

PaddingSplit SplitPadding(int64_t before, int64_t after) {
  PaddingSplit s;
  s.common = std::min(before, after);
  s.extra_before = before - s.common;
  s.extra_after = after - s.common;
  return s;
}

// Bytes of the input [n, h, w, c] padded by the excess of `sh` and `sw`, or 0 when both are
// symmetric (cuDNN then reads the input itself) or a size is negative (the launch rejects it).
size_t PaddedInputBytes(int64_t n, int64_t h, int64_t w, int64_t c, const PaddingSplit& sh,
                        const PaddingSplit& sw) {
  if (sh.symmetric() && sw.symmetric()) return 0;
  if (n < 0 || h < 0 || w < 0 || c < 0 || sh.extra_before < 0 || sh.extra_after < 0 ||
      sw.extra_before < 0 || sw.extra_after < 0) {
    return 0;
  }
  const int64_t ph = h + sh.extra_before + sh.extra_after;
  const int64_t pw = w + sw.extra_before + sw.extra_after;
  return static_cast<size_t>(n * ph * pw * c) * sizeof(float);
}

std::string Dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  return "[" + std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "," +
         std::to_string(d) + "]";
}

}  // namespace

size_t GpuDnn::ConvScratchBytes(const ConvParams& p) {
  return PaddedInputBytes(p.batch, p.in_h, p.in_w, p.in_c, SplitPadding(p.pad_top, p.pad_bottom),
                          SplitPadding(p.pad_left, p.pad_right));
}

size_t GpuDnn::PoolScratchBytes(const PoolParams& p) {
  return PaddedInputBytes(p.batch, p.in_h, p.in_w, p.channels,
                          SplitPadding(p.pad_top, p.pad_bottom),
                          SplitPadding(p.pad_left, p.pad_right));
}

void FilterHwioToKrsc(const float* hwio, int64_t kh, int64_t kw, int64_t in, int64_t out,
                      float* krsc) {
  // HWIO is [kh * kw * in, out] row-major and KRSC is its transpose [out, kh * kw * in].
  const int64_t rows = kh * kw * in;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) krsc[o * rows + r] = hwio[r * out + o];
  }
}

#ifdef WEIR_HAVE_CUDNN
namespace {

GpuStatus DnnStatus(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return GpuStatus::Ok();
  std::string message = std::string(what) + " failed: " + cudnnGetErrorString(status);
  // cuDNN 9 keeps a sentence on what it disliked (a layout, a dimension) per thread.
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0] != '\0') message += std::string(" (") + detail + ")";
  return GpuStatus::Error(message);
}

bool NotSupported(cudnnStatus_t status) {
  return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED;
}

GpuStatus CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return GpuStatus::Ok();
  return GpuStatus::Error(std::string(what) + " failed: " + cudaGetErrorString(err));
}

// cuDNN's legacy descriptors take int dimensions and strides; tensors are kept below 2^31
// elements so every stride fits too.
bool FitsInt(int64_t v) { return v >= 0 && v <= INT_MAX; }
int Int(int64_t v) { return static_cast<int>(v); }

// The descriptors of one convolution shape and its algorithms, best first: the heuristic's
// order, keeping those that fit the workspace and the math mode. A launch that cuDNN refuses as
// unsupported moves on to the next one.
struct ConvPlan {
  struct Candidate {
    cudnnConvolutionFwdAlgo_t algo;
    cudnnMathType_t math;
    size_t workspace_bytes;
  };
  cudnnTensorDescriptor_t x = nullptr;  // the (padded) input
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnTensorDescriptor_t y = nullptr;
  std::vector<Candidate> candidates;
  size_t current = 0;
  // cuDNN has no algorithm for the shape (none offered, or every one declined at launch): the
  // direct kernel runs it (LaunchDirectConvNhwc).
  bool direct = false;
  cudnnMathType_t math_set = CUDNN_DEFAULT_MATH;  // what `conv` holds now

  ConvPlan() = default;
  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;
  ~ConvPlan() {
    if (y != nullptr) cudnnDestroyTensorDescriptor(y);
    if (conv != nullptr) cudnnDestroyConvolutionDescriptor(conv);
    if (w != nullptr) cudnnDestroyFilterDescriptor(w);
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
  }
};

struct PoolPlan {
  cudnnTensorDescriptor_t x = nullptr;  // the (padded) input
  cudnnTensorDescriptor_t y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;

  PoolPlan() = default;
  PoolPlan(const PoolPlan&) = delete;
  PoolPlan& operator=(const PoolPlan&) = delete;
  ~PoolPlan() {
    if (pool != nullptr) cudnnDestroyPoolingDescriptor(pool);
    if (y != nullptr) cudnnDestroyTensorDescriptor(y);
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
  }
};

struct BatchNormPlan {
  cudnnTensorDescriptor_t x = nullptr;   // x and y alike
  cudnnTensorDescriptor_t bn = nullptr;  // [1, C, 1, 1] for scale, offset, mean, variance
  bool use_kernel = false;               // cuDNN declined the shape: LaunchBatchNormInferenceNhwc

  BatchNormPlan() = default;
  BatchNormPlan(const BatchNormPlan&) = delete;
  BatchNormPlan& operator=(const BatchNormPlan&) = delete;
  ~BatchNormPlan() {
    if (bn != nullptr) cudnnDestroyTensorDescriptor(bn);
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
  }
};

using ConvKey = std::array<int64_t, 19>;
using PoolKey = std::array<int64_t, 15>;
using BatchNormKey = std::array<int64_t, 4>;

// Cached plans are bounded; past this many shapes of a kind the cache starts over.
constexpr size_t kMaxPlans = 256;

ConvKey KeyOf(const ConvParams& p) {
  return {p.batch,
          p.in_h,
          p.in_w,
          p.in_c,
          p.filter_h,
          p.filter_w,
          p.out_c,
          p.groups,
          p.stride_h,
          p.stride_w,
          p.dilation_h,
          p.dilation_w,
          p.pad_top,
          p.pad_bottom,
          p.pad_left,
          p.pad_right,
          p.out_h,
          p.out_w,
          p.allow_tf32 ? 1 : 0};
}

PoolKey KeyOf(const PoolParams& p) {
  return {static_cast<int64_t>(p.mode),
          p.batch,
          p.in_h,
          p.in_w,
          p.channels,
          p.window_h,
          p.window_w,
          p.stride_h,
          p.stride_w,
          p.pad_top,
          p.pad_bottom,
          p.pad_left,
          p.pad_right,
          p.out_h,
          p.out_w};
}

std::string DescribeConv(const ConvParams& p) {
  return "convolution of input (NHWC) " + Dims4(p.batch, p.in_h, p.in_w, p.in_c) +
         " with filter (KRSC) " +
         Dims4(p.out_c, p.filter_h, p.filter_w, p.groups > 0 ? p.in_c / p.groups : 0) +
         ", groups " + std::to_string(p.groups) + ", strides " + std::to_string(p.stride_h) + "x" +
         std::to_string(p.stride_w) + ", dilations " + std::to_string(p.dilation_h) + "x" +
         std::to_string(p.dilation_w);
}

GpuStatus CheckConv(const ConvParams& p) {
  const bool sizes_ok = p.batch >= 0 && p.in_h >= 0 && p.in_w >= 0 && p.in_c >= 1 &&
                        p.filter_h >= 1 && p.filter_w >= 1 && p.out_c >= 1 && p.groups >= 1 &&
                        p.in_c % p.groups == 0 && p.out_c % p.groups == 0 && p.stride_h >= 1 &&
                        p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 &&
                        p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 &&
                        p.pad_right >= 0 && p.out_h >= 0 && p.out_w >= 0;
  if (!sizes_ok) {
    return GpuStatus::Error(DescribeConv(p) +
                            ": expected positive channels, filter sizes, strides and dilations, "
                            "channels divisible by the groups and non-negative paddings");
  }
  const PaddingSplit sh = SplitPadding(p.pad_top, p.pad_bottom);
  const PaddingSplit sw = SplitPadding(p.pad_left, p.pad_right);
  const int64_t xh = p.in_h + sh.extra_before + sh.extra_after;
  const int64_t xw = p.in_w + sw.extra_before + sw.extra_after;
  // Products checked one factor at a time so that none overflows int64 first.
  auto fits = [](std::initializer_list<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) {
      if (!FitsInt(d)) return false;
      if (d != 0 && n > INT_MAX / d) return false;
      n *= d;
    }
    return true;
  };
  if (!fits({p.batch, xh, xw, p.in_c}) || !fits({p.batch, p.out_h, p.out_w, p.out_c}) ||
      !fits({p.out_c, p.filter_h, p.filter_w, p.in_c / p.groups}) || !FitsInt(sh.common) ||
      !FitsInt(sw.common) || !FitsInt(p.stride_h) || !FitsInt(p.stride_w) ||
      !FitsInt(p.dilation_h) || !FitsInt(p.dilation_w)) {
    return GpuStatus::Error(DescribeConv(p) + ": cuDNN takes tensors of fewer than 2^31 elements");
  }
  return GpuStatus::Ok();
}

GpuStatus BuildConvPlan(cudnnHandle_t handle, const ConvParams& p, size_t workspace_limit,
                        ConvPlan* plan) {
  const PaddingSplit sh = SplitPadding(p.pad_top, p.pad_bottom);
  const PaddingSplit sw = SplitPadding(p.pad_left, p.pad_right);
  const int64_t xh = p.in_h + sh.extra_before + sh.extra_after;
  const int64_t xw = p.in_w + sw.extra_before + sw.extra_after;
  GpuStatus st = DnnStatus(cudnnCreateTensorDescriptor(&plan->x), "cudnnCreateTensorDescriptor");
  if (!st.ok()) return st;
  // cudnnSetTensor4dDescriptor takes the logical N, C, H, W; the format says how they are laid
  // out in memory (NHWC: channels innermost).
  st = DnnStatus(cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                            Int(p.batch), Int(p.in_c), Int(xh), Int(xw)),
                 "cudnnSetTensor4dDescriptor (convolution input)");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnCreateFilterDescriptor(&plan->w), "cudnnCreateFilterDescriptor");
  if (!st.ok()) return st;
  // K, C (per group), R, S; NHWC format means KRSC in memory.
  st = DnnStatus(
      cudnnSetFilter4dDescriptor(plan->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, Int(p.out_c),
                                 Int(p.in_c / p.groups), Int(p.filter_h), Int(p.filter_w)),
      "cudnnSetFilter4dDescriptor (convolution filter)");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnCreateConvolutionDescriptor(&plan->conv), "cudnnCreateConvolutionDescriptor");
  if (!st.ok()) return st;
  // TensorFlow's Conv2D is a cross-correlation (the filter is not flipped).
  st = DnnStatus(
      cudnnSetConvolution2dDescriptor(plan->conv, Int(sh.common), Int(sw.common), Int(p.stride_h),
                                      Int(p.stride_w), Int(p.dilation_h), Int(p.dilation_w),
                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
      "cudnnSetConvolution2dDescriptor");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnSetConvolutionGroupCount(plan->conv, Int(p.groups)),
                 "cudnnSetConvolutionGroupCount");
  if (!st.ok()) return st;
  // The math mode before the heuristic query: it shapes which algorithms are offered.
  const cudnnMathType_t math = p.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  st = DnnStatus(cudnnSetConvolutionMathType(plan->conv, math), "cudnnSetConvolutionMathType");
  if (!st.ok()) return st;
  plan->math_set = math;
  int n = 0, c = 0, h = 0, w = 0;
  st =
      DnnStatus(cudnnGetConvolution2dForwardOutputDim(plan->conv, plan->x, plan->w, &n, &c, &h, &w),
                "cudnnGetConvolution2dForwardOutputDim");
  if (!st.ok()) return st;
  if (n != p.batch || c != p.out_c || h != p.out_h || w != p.out_w) {
    return GpuStatus::Error(DescribeConv(p) + ": cuDNN computes output " + Dims4(n, h, w, c) +
                            ", expected " + Dims4(p.batch, p.out_h, p.out_w, p.out_c));
  }
  st = DnnStatus(cudnnCreateTensorDescriptor(&plan->y), "cudnnCreateTensorDescriptor");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                            Int(p.batch), Int(p.out_c), Int(p.out_h), Int(p.out_w)),
                 "cudnnSetTensor4dDescriptor (convolution output)");
  if (!st.ok()) return st;

  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {};
  int returned = 0;
  st = DnnStatus(
      cudnnGetConvolutionForwardAlgorithm_v7(handle, plan->x, plan->w, plan->conv, plan->y,
                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
      "cudnnGetConvolutionForwardAlgorithm_v7");
  if (!st.ok()) return st;
  for (int i = 0; i < returned; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& r = perf[i];
    if (r.status != CUDNN_STATUS_SUCCESS) continue;
    // Without TF32 only FMA kernels are acceptable; an algorithm the heuristic reports under a
    // tensor-op math type would round the inputs.
    if (!p.allow_tf32 && r.mathType == CUDNN_TENSOR_OP_MATH) continue;
    // Never CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, not even with allow_tf32: it lets cuDNN
    // down-convert float32 data to FP16 for the tensor cores (cuDNN 7.2's FP32-data tensor
    // ops), so values past 65504 become inf and small ones flush; allow_tf32 permits TF32
    // only (DEFAULT_MATH / TENSOR_OP_MATH on float data).
    if (r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    const cudnnMathType_t algo_math = p.allow_tf32 ? r.mathType : CUDNN_FMA_MATH;
    if (cudnnSetConvolutionMathType(plan->conv, algo_math) != CUDNN_STATUS_SUCCESS) continue;
    plan->math_set = algo_math;
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, plan->x, plan->w, plan->conv, plan->y,
                                                r.algo, &bytes) != CUDNN_STATUS_SUCCESS ||
        bytes > workspace_limit) {
      continue;
    }
    plan->candidates.push_back({r.algo, algo_math, bytes});
  }
  // No forward algorithm (of `returned` considered) fits the workspace and the math mode: the
  // direct kernel runs this shape.
  if (plan->candidates.empty()) plan->direct = true;
  return GpuStatus::Ok();
}

GpuStatus CheckPool(const PoolParams& p) {
  const bool ok = p.batch >= 0 && p.in_h >= 0 && p.in_w >= 0 && p.channels >= 0 &&
                  p.window_h >= 1 && p.window_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1 &&
                  p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0 &&
                  p.pad_top < p.window_h && p.pad_bottom < p.window_h && p.pad_left < p.window_w &&
                  p.pad_right < p.window_w && p.out_h >= 0 && p.out_w >= 0;
  if (!ok) {
    return GpuStatus::Error("pooling input (NHWC) " + Dims4(p.batch, p.in_h, p.in_w, p.channels) +
                            " with window " + std::to_string(p.window_h) + "x" +
                            std::to_string(p.window_w) +
                            ": expected positive windows and strides and paddings in "
                            "[0, window)");
  }
  return GpuStatus::Ok();
}

GpuStatus BuildPoolPlan(const PoolParams& p, PoolPlan* plan) {
  const PaddingSplit sh = SplitPadding(p.pad_top, p.pad_bottom);
  const PaddingSplit sw = SplitPadding(p.pad_left, p.pad_right);
  const int64_t xh = p.in_h + sh.extra_before + sh.extra_after;
  const int64_t xw = p.in_w + sw.extra_before + sw.extra_after;
  const std::string what = "pooling input (NHWC) " + Dims4(p.batch, p.in_h, p.in_w, p.channels);
  for (int64_t total : {p.batch * xh * xw * p.channels, p.batch * p.out_h * p.out_w * p.channels,
                        p.window_h, p.window_w, p.stride_h, p.stride_w}) {
    if (!FitsInt(total)) {
      return GpuStatus::Error(what + ": cuDNN takes tensors of fewer than 2^31 elements");
    }
  }
  GpuStatus st = DnnStatus(cudnnCreateTensorDescriptor(&plan->x), "cudnnCreateTensorDescriptor");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                            Int(p.batch), Int(p.channels), Int(xh), Int(xw)),
                 "cudnnSetTensor4dDescriptor (pooling input)");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnCreateTensorDescriptor(&plan->y), "cudnnCreateTensorDescriptor");
  if (!st.ok()) return st;
  st = DnnStatus(
      cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, Int(p.batch),
                                 Int(p.channels), Int(p.out_h), Int(p.out_w)),
      "cudnnSetTensor4dDescriptor (pooling output)");
  if (!st.ok()) return st;
  st = DnnStatus(cudnnCreatePoolingDescriptor(&plan->pool), "cudnnCreatePoolingDescriptor");
  if (!st.ok()) return st;
  // Max: cuDNN's padding never wins, and the padded copy holds -inf. Average with symmetric
  // padding: cuDNN leaves padding out of the count, as TensorFlow does. Average with a padded
  // copy: cuDNN would count the copy's zeros as elements, so it divides by the whole window
  // and LaunchAvgPoolExcludePadding rescales.
  const bool symmetric = sh.symmetric() && sw.symmetric();
  const cudnnPoolingMode_t mode = p.mode == PoolMode::kMax ? CUDNN_POOLING_MAX
                                  : symmetric ? CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING
                                              : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  st = DnnStatus(cudnnSetPooling2dDescriptor(plan->pool, mode, CUDNN_NOT_PROPAGATE_NAN,
                                             Int(p.window_h), Int(p.window_w), Int(sh.common),
                                             Int(sw.common), Int(p.stride_h), Int(p.stride_w)),
                 "cudnnSetPooling2dDescriptor");
  if (!st.ok()) return st;
  int n = 0, c = 0, h = 0, w = 0;
  st = DnnStatus(cudnnGetPooling2dForwardOutputDim(plan->pool, plan->x, &n, &c, &h, &w),
                 "cudnnGetPooling2dForwardOutputDim");
  if (!st.ok()) return st;
  if (n != p.batch || c != p.channels || h != p.out_h || w != p.out_w) {
    return GpuStatus::Error(what + ": cuDNN computes output " + Dims4(n, h, w, c) + ", expected " +
                            Dims4(p.batch, p.out_h, p.out_w, p.channels));
  }
  return GpuStatus::Ok();
}

void BuildBatchNormPlan(const BatchNormParams& p, BatchNormPlan* plan) {
  // Anything cuDNN cannot describe or declines runs on the plain kernel instead.
  for (int64_t d : {p.batch, p.h, p.w, p.channels, p.batch * p.h * p.w * p.channels}) {
    if (!FitsInt(d)) {
      plan->use_kernel = true;
      return;
    }
  }
  if (cudnnCreateTensorDescriptor(&plan->x) != CUDNN_STATUS_SUCCESS ||
      cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, Int(p.batch),
                                 Int(p.channels), Int(p.h), Int(p.w)) != CUDNN_STATUS_SUCCESS ||
      cudnnCreateTensorDescriptor(&plan->bn) != CUDNN_STATUS_SUCCESS ||
      cudnnDeriveBNTensorDescriptor(plan->bn, plan->x, CUDNN_BATCHNORM_SPATIAL) !=
          CUDNN_STATUS_SUCCESS) {
    plan->use_kernel = true;
  }
}

}  // namespace

struct GpuDnn::Plans {
  std::map<ConvKey, std::unique_ptr<ConvPlan>> conv;
  std::map<PoolKey, std::unique_ptr<PoolPlan>> pool;
  std::map<BatchNormKey, std::unique_ptr<BatchNormPlan>> batch_norm;
};

GpuDnn::GpuDnn() = default;

GpuStatus GpuDnn::Create(std::unique_ptr<GpuDnn>* out, size_t workspace_bytes) {
  if (!GpuAvailable()) return GpuStatus::Error("no CUDA device is available");
  std::unique_ptr<GpuDnn> dnn(new GpuDnn());
  dnn->plans_ = std::make_unique<Plans>();
  cudnnHandle_t handle = nullptr;
  GpuStatus st = DnnStatus(cudnnCreate(&handle), "cudnnCreate");
  if (!st.ok()) return st;
  dnn->handle_ = handle;
  if (workspace_bytes > 0) {
    st =
        CudaStatus(cudaMalloc(&dnn->workspace_, workspace_bytes), "allocating the cuDNN workspace");
    if (!st.ok()) return st;
    dnn->workspace_bytes_ = workspace_bytes;
  }
  *out = std::move(dnn);
  return GpuStatus::Ok();
}

GpuStatus GpuDnn::CreateBorrowing(std::unique_ptr<GpuDnn>* out, void* workspace,
                                  size_t workspace_bytes) {
  if (workspace == nullptr && workspace_bytes > 0) {
    return GpuStatus::Error("GpuDnn: null workspace of " + std::to_string(workspace_bytes) +
                            " bytes");
  }
  std::unique_ptr<GpuDnn> dnn;
  GpuStatus st = Create(&dnn, /*workspace_bytes=*/0);
  if (!st.ok()) return st;
  dnn->owns_workspace_ = false;
  dnn->workspace_ = workspace;
  dnn->workspace_bytes_ = workspace_bytes;
  *out = std::move(dnn);
  return GpuStatus::Ok();
}

GpuDnn::~GpuDnn() {
  plans_.reset();  // descriptors before the handle
  if (workspace_ != nullptr && owns_workspace_) cudaFree(workspace_);
  if (handle_ != nullptr) cudnnDestroy(static_cast<cudnnHandle_t>(handle_));
}

GpuStatus GpuDnn::Conv2D(const ConvParams& p, const float* input, const float* filter,
                         float* output, void* scratch, size_t scratch_bytes, GpuStream stream) {
  GpuStatus st = CheckConv(p);
  if (!st.ok()) return st;
  if (p.batch == 0 || p.out_h == 0 || p.out_w == 0) return GpuStatus::Ok();
  if (p.in_h == 0 || p.in_w == 0) {
    return GpuStatus::Error(DescribeConv(p) + ": an empty input gives a non-empty output");
  }
  auto handle = static_cast<cudnnHandle_t>(handle_);
  const ConvKey key = KeyOf(p);
  auto it = plans_->conv.find(key);
  if (it == plans_->conv.end()) {
    auto plan = std::make_unique<ConvPlan>();
    // A shape cuDNN has no algorithm for (within the workspace and the math mode) runs on
    // the direct kernel; any other failure (a geometry mismatch, cuDNN out of memory) is
    // reported and not cached.
    st = BuildConvPlan(handle, p, workspace_bytes_, plan.get());
    if (!st.ok()) return st;
    if (force_direct_) plan->direct = true;
    if (plan->direct) ++num_direct_plans_;
    if (plans_->conv.size() >= kMaxPlans) plans_->conv.clear();
    it = plans_->conv.emplace(key, std::move(plan)).first;
  }
  ConvPlan& plan = *it->second;
  if (plan.direct) return DirectConv(p, input, filter, output, stream);

  const PaddingSplit sh = SplitPadding(p.pad_top, p.pad_bottom);
  const PaddingSplit sw = SplitPadding(p.pad_left, p.pad_right);
  const float* x = input;
  if (!sh.symmetric() || !sw.symmetric()) {
    const size_t needed = ConvScratchBytes(p);
    if (scratch == nullptr || scratch_bytes < needed) {
      return GpuStatus::Error(DescribeConv(p) + ": asymmetric padding needs " +
                              std::to_string(needed) + " bytes of scratch, found " +
                              std::to_string(scratch == nullptr ? 0 : scratch_bytes));
    }
    st = LaunchPadNhwc(input, p.batch, p.in_h, p.in_w, p.in_c, sh.extra_before, sh.extra_after,
                       sw.extra_before, sw.extra_after, 0.0f, static_cast<float*>(scratch), stream);
    if (!st.ok()) return st;
    x = static_cast<const float*>(scratch);
  }
  st = DnnStatus(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  if (!st.ok()) return st;
  const float alpha = 1.0f, beta = 0.0f;
  while (plan.current < plan.candidates.size()) {
    const ConvPlan::Candidate& c = plan.candidates[plan.current];
    if (plan.math_set != c.math) {
      st = DnnStatus(cudnnSetConvolutionMathType(plan.conv, c.math), "cudnnSetConvolutionMathType");
      if (!st.ok()) return st;
      plan.math_set = c.math;
    }
    const cudnnStatus_t status = cudnnConvolutionForward(
        handle, &alpha, plan.x, x, plan.w, filter, plan.conv, c.algo,
        c.workspace_bytes > 0 ? workspace_ : nullptr, c.workspace_bytes, &beta, plan.y, output);
    // The heuristic offered it, the launch declined it (checked before anything is enqueued):
    // the next candidate, for this call and later ones.
    if (NotSupported(status) && plan.current + 1 < plan.candidates.size()) {
      ++plan.current;
      continue;
    }
    if (status == CUDNN_STATUS_SUCCESS) return GpuStatus::Ok();
    if (NotSupported(status)) {
      // The last candidate declined too: this shape and later calls run directly.
      plan.direct = true;
      ++num_direct_plans_;
      return DirectConv(p, input, filter, output, stream);
    }
    // Which algorithm and shape failed: what a GPU session needs to reproduce it.
    const std::string what = "cudnnConvolutionForward (algo " +
                             std::to_string(static_cast<int>(c.algo)) + ", math type " +
                             std::to_string(static_cast<int>(c.math)) + ") for " + DescribeConv(p);
    return DnnStatus(status, what.c_str());
  }
  return GpuStatus::Error(DescribeConv(p) + ": no cuDNN algorithm is left to run it");
}

GpuStatus GpuDnn::DirectConv(const ConvParams& p, const float* input, const float* filter,
                             float* output, GpuStream stream) {
  return LaunchDirectConvNhwc(DirectConvShapeOf(p), input, filter, output, stream);
}

GpuStatus GpuDnn::Pool(const PoolParams& p, const float* input, float* output, void* scratch,
                       size_t scratch_bytes, GpuStream stream) {
  GpuStatus st = CheckPool(p);
  if (!st.ok()) return st;
  if (p.batch == 0 || p.channels == 0 || p.out_h == 0 || p.out_w == 0) return GpuStatus::Ok();
  if (p.in_h == 0 || p.in_w == 0) {
    return GpuStatus::Error("pooling an empty input " + Dims4(p.batch, p.in_h, p.in_w, p.channels) +
                            " into a non-empty output");
  }
  auto handle = static_cast<cudnnHandle_t>(handle_);
  const PoolKey key = KeyOf(p);
  auto it = plans_->pool.find(key);
  if (it == plans_->pool.end()) {
    auto plan = std::make_unique<PoolPlan>();
    st = BuildPoolPlan(p, plan.get());
    if (!st.ok()) return st;
    if (plans_->pool.size() >= kMaxPlans) plans_->pool.clear();
    it = plans_->pool.emplace(key, std::move(plan)).first;
  }
  const PoolPlan& plan = *it->second;

  const PaddingSplit sh = SplitPadding(p.pad_top, p.pad_bottom);
  const PaddingSplit sw = SplitPadding(p.pad_left, p.pad_right);
  const bool symmetric = sh.symmetric() && sw.symmetric();
  const float* x = input;
  if (!symmetric) {
    const size_t needed = PoolScratchBytes(p);
    if (scratch == nullptr || scratch_bytes < needed) {
      return GpuStatus::Error("pooling with asymmetric padding needs " + std::to_string(needed) +
                              " bytes of scratch, found " +
                              std::to_string(scratch == nullptr ? 0 : scratch_bytes));
    }
    const float fill = p.mode == PoolMode::kMax ? -std::numeric_limits<float>::infinity() : 0.0f;
    st = LaunchPadNhwc(input, p.batch, p.in_h, p.in_w, p.channels, sh.extra_before, sh.extra_after,
                       sw.extra_before, sw.extra_after, fill, static_cast<float*>(scratch), stream);
    if (!st.ok()) return st;
    x = static_cast<const float*>(scratch);
  }
  st = DnnStatus(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  if (!st.ok()) return st;
  const float alpha = 1.0f, beta = 0.0f;
  st = DnnStatus(cudnnPoolingForward(handle, plan.pool, &alpha, plan.x, x, &beta, plan.y, output),
                 "cudnnPoolingForward");
  if (!st.ok() || p.mode == PoolMode::kMax || symmetric) return st;
  PoolWindow window;
  window.in_h = p.in_h;
  window.in_w = p.in_w;
  window.window_h = p.window_h;
  window.window_w = p.window_w;
  window.stride_h = p.stride_h;
  window.stride_w = p.stride_w;
  window.pad_top = p.pad_top;
  window.pad_left = p.pad_left;
  return LaunchAvgPoolExcludePadding(output, p.batch, p.out_h, p.out_w, p.channels, window, stream);
}

GpuStatus GpuDnn::BatchNormInference(const BatchNormParams& p, const float* x, const float* scale,
                                     const float* offset, const float* mean, const float* variance,
                                     float* y, GpuStream stream) {
  if (p.batch < 0 || p.h < 0 || p.w < 0 || p.channels < 0) {
    return GpuStatus::Error("batch norm of input (NHWC) " + Dims4(p.batch, p.h, p.w, p.channels) +
                            ": expected non-negative dimensions");
  }
  const int64_t rows = p.batch * p.h * p.w;
  if (rows == 0 || p.channels == 0) return GpuStatus::Ok();
  auto handle = static_cast<cudnnHandle_t>(handle_);
  const BatchNormKey key = {p.batch, p.h, p.w, p.channels};
  auto it = plans_->batch_norm.find(key);
  if (it == plans_->batch_norm.end()) {
    auto plan = std::make_unique<BatchNormPlan>();
    BuildBatchNormPlan(p, plan.get());
    if (plans_->batch_norm.size() >= kMaxPlans) plans_->batch_norm.clear();
    it = plans_->batch_norm.emplace(key, std::move(plan)).first;
  }
  BatchNormPlan& plan = *it->second;
  // cuDNN refuses an epsilon below its minimum (0 in cuDNN 9); the kernel takes any.
  if (!plan.use_kernel && p.epsilon >= CUDNN_BN_MIN_EPSILON) {
    GpuStatus st =
        DnnStatus(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
    if (!st.ok()) return st;
    const float alpha = 1.0f, beta = 0.0f;
    const cudnnStatus_t status = cudnnBatchNormalizationForwardInference(
        handle, CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, plan.x, x, plan.x, y, plan.bn, scale,
        offset, mean, variance, p.epsilon);
    if (!NotSupported(status)) return DnnStatus(status, "cudnnBatchNormalizationForwardInference");
    plan.use_kernel = true;  // declined before anything was enqueued: the kernel from now on
  }
  return LaunchBatchNormInferenceNhwc(x, scale, offset, mean, variance,
                                      static_cast<float>(p.epsilon), rows, p.channels, y, stream);
}

GpuStatus LaunchFilterHwioToKrsc(const float* hwio, int64_t kh, int64_t kw, int64_t in, int64_t out,
                                 float* krsc, GpuStream stream) {
  if (kh < 0 || kw < 0 || in < 0 || out < 0) {
    return GpuStatus::Error("filter " + Dims4(kh, kw, in, out) + " has a negative dimension");
  }
  const GpuDims shape{kh * kw * in, out};
  const int perm[2] = {1, 0};
  return LaunchTranspose<float>(hwio, shape, perm, krsc, stream);
}

#else  // !WEIR_HAVE_CUDNN

struct GpuDnn::Plans {};
GpuDnn::GpuDnn() = default;
GpuDnn::~GpuDnn() = default;

GpuStatus GpuDnn::CreateBorrowing(std::unique_ptr<GpuDnn>*, void*, size_t) {
  return GpuStatus::Error("this build has no cuDNN support");
}
GpuStatus GpuDnn::Create(std::unique_ptr<GpuDnn>*, size_t) {
  return GpuStatus::Error("this build has no cuDNN support");
}
GpuStatus GpuDnn::Conv2D(const ConvParams&, const float*, const float*, float*, void*, size_t,
                         GpuStream) {
  return GpuStatus::Error("this build has no cuDNN support");
}
GpuStatus GpuDnn::Pool(const PoolParams&, const float*, float*, void*, size_t, GpuStream) {
  return GpuStatus::Error("this build has no cuDNN support");
}
GpuStatus GpuDnn::BatchNormInference(const BatchNormParams&, const float*, const float*,
                                     const float*, const float*, const float*, float*, GpuStream) {
  return GpuStatus::Error("this build has no cuDNN support");
}
GpuStatus LaunchFilterHwioToKrsc(const float*, int64_t, int64_t, int64_t, int64_t, float*,
                                 GpuStream) {
  return GpuStatus::Error("this build has no cuDNN support");
}

#endif  // WEIR_HAVE_CUDNN

}  // namespace gpu
}  // namespace weir
