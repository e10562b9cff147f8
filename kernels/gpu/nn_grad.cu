// nn_grad.cu - The activation gradients (one grid-stride loop per op) and the softmax
// cross-entropy losses (a warp per row up to 1024 classes, a block per longer row: max, then the
// sum of exponentials, then the outputs, as softmax.cu).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/nn_grad.h"

namespace weir {
namespace gpu {
namespace {

// ---- Activation gradients --------------------------------------------------------------------

template <ActivationGradOp kOp, typename T>
struct ActivationGradFn {
  __device__ __forceinline__ T operator()(T a, T b) const {
    if constexpr (kOp == ActivationGradOp::kReluGrad) {
      return b > T(0) ? a : T(0);  // (gradients, features)
    } else if constexpr (kOp == ActivationGradOp::kRelu6Grad) {
      return b > T(0) && b < T(6) ? a : T(0);
    } else if constexpr (kOp == ActivationGradOp::kSigmoidGrad) {
      return b * a * (T(1) - a);  // (y, dy): dy * y * (1 - y), the CPU kernel's order
    } else {
      // (y, dy): dy * (1 - y * y). y * y rounded on its own: nvcc would fuse 1 - y * y into one
      // FMA, which the CPU build does not, and near |y| = 1 the two differ in relative terms.
      return b * (T(1) - __fmul_rn(a, a));
    }
  }
};

template <ActivationGradOp kOp, typename T>
__global__ void ActivationGradKernel(const T* a, const T* b, T* out, int64_t n) {
  const ActivationGradFn<kOp, T> fn;
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = fn(a[i], b[i]);
  }
}

template <ActivationGradOp kOp, typename T>
void LaunchGrad(const T* a, const T* b, T* out, int64_t n, cudaStream_t stream) {
  ActivationGradKernel<kOp, T>
      <<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0, stream>>>(a, b, out, n);
}

// ---- Softmax cross-entropy -------------------------------------------------------------------

constexpr int kWarpsPerBlock = 8;
constexpr int64_t kWarpRowLimit = 1024;
constexpr int kBlockThreads = 512;

struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ __forceinline__ double operator()(double a, double b) const { return a + b; }
};

// The reductions over one row's threads: a warp's (kBlock false) or the block's; every thread
// that works on the row sees the result.
template <bool kBlock>
struct RowReduce {
  float* float_scratch;    // 32 floats of shared memory (kBlock only)
  double* double_scratch;  // 32 doubles of shared memory (kBlock only)

  __device__ __forceinline__ float Max(float v) const {
    if constexpr (kBlock) {
      return internal::BlockAllReduce(v, MaxOp(), -INFINITY, float_scratch);
    } else {
      return __shfl_sync(0xffffffffu, internal::WarpReduce(v, MaxOp()), 0);
    }
  }
  __device__ __forceinline__ double Sum(double v) const {
    if constexpr (kBlock) {
      return internal::BlockAllReduce(v, SumOp(), 0.0, double_scratch);
    } else {
      return __shfl_sync(0xffffffffu, internal::WarpReduce(v, SumOp()), 0);
    }
  }
};

// The labels of row `row`: an index (kSparse) or a distribution over the classes.
template <bool kSparse, typename Label>
struct XentLabels {
  const Label* sparse;  // [rows]
  const float* dense;   // [rows, classes]
};

// One row, worked on by threads `tid` = 0 .. `stride` - 1, all of which call this (the
// reductions synchronize them). Thread 0 writes the loss.
template <bool kBlock, bool kSparse, typename Label>
__device__ __forceinline__ void XentRow(const RowReduce<kBlock>& reduce, int tid, int stride,
                                        const float* logits, XentLabels<kSparse, Label> labels,
                                        float* loss, float* backprop, int64_t row,
                                        int64_t classes) {
  const float* x = logits + row * classes;
  float* b = backprop + row * classes;
  float max = -INFINITY;
  for (int64_t c = tid; c < classes; c += stride) max = fmaxf(max, x[c]);
  max = reduce.Max(max);
  // As the CPU kernel: x - max in float, its exponential and the row's sum in double.
  double sum = 0;
  for (int64_t c = tid; c < classes; c += stride) sum += exp(static_cast<double>(x[c] - max));
  sum = reduce.Sum(sum);
  const double inv = 1.0 / sum;
  const double log_z = static_cast<double>(max) + log(sum);
  if constexpr (kSparse) {
    const int64_t label = static_cast<int64_t>(labels.sparse[row]);
    const bool valid = label >= 0 && label < classes;
    for (int64_t c = tid; c < classes; c += stride) {
      const float p = static_cast<float>(exp(static_cast<double>(x[c] - max)) * inv);
      b[c] = valid ? (c == label ? p - 1.0f : p) : NAN;
    }
    if (tid == 0) {
      loss[row] = valid ? static_cast<float>(log_z - static_cast<double>(x[label])) : NAN;
    }
  } else {
    const float* y = labels.dense + row * classes;
    double acc = 0;
    for (int64_t c = tid; c < classes; c += stride) {
      const float yc = y[c];
      // The product rounded before the sum, as the CPU build (no FMA) does.
      acc += __dmul_rn(static_cast<double>(yc), log_z - static_cast<double>(x[c]));
      b[c] = static_cast<float>(exp(static_cast<double>(x[c] - max)) * inv) - yc;
    }
    acc = reduce.Sum(acc);
    if (tid == 0) loss[row] = static_cast<float>(acc);
  }
}

template <bool kSparse, typename Label>
__global__ void XentWarpRows(const float* logits, XentLabels<kSparse, Label> labels, float* loss,
                             float* backprop, int64_t rows, int64_t classes) {
  const RowReduce<false> reduce{nullptr, nullptr};
  const int lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  // `row` depends on the warp only: a warp's lanes run the loop (and its shuffles) together.
  for (int64_t row = first; row < rows; row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    XentRow<false, kSparse, Label>(reduce, lane, 32, logits, labels, loss, backprop, row, classes);
  }
}

template <bool kSparse, typename Label>
__global__ void XentBlockRows(const float* logits, XentLabels<kSparse, Label> labels, float* loss,
                              float* backprop, int64_t rows, int64_t classes) {
  __shared__ float float_scratch[32];
  __shared__ double double_scratch[32];
  const RowReduce<true> reduce{float_scratch, double_scratch};
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    XentRow<true, kSparse, Label>(reduce, threadIdx.x, blockDim.x, logits, labels, loss, backprop,
                                  row, classes);
  }
}

template <bool kSparse, typename Label>
GpuStatus LaunchXent(const float* logits, XentLabels<kSparse, Label> labels, int64_t rows,
                     int64_t classes, float* loss, float* backprop, GpuStream stream,
                     const char* name) {
  if (rows < 0 || classes < 0) {
    return GpuStatus::Error(std::string(name) + " has a negative dimension");
  }
  if (rows == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  if (classes <= kWarpRowLimit) {
    XentWarpRows<kSparse, Label>
        <<<internal::BlocksFor(rows, kWarpsPerBlock), kWarpsPerBlock * 32, 0, s>>>(
            logits, labels, loss, backprop, rows, classes);
  } else {
    const unsigned blocks = static_cast<unsigned>(rows < (1 << 20) ? rows : (1 << 20));
    XentBlockRows<kSparse, Label>
        <<<blocks, kBlockThreads, 0, s>>>(logits, labels, loss, backprop, rows, classes);
  }
  return internal::LaunchStatus(name);
}

}  // namespace

const char* ActivationGradOpName(ActivationGradOp op) {
  switch (op) {
    case ActivationGradOp::kReluGrad:
      return "ReluGrad";
    case ActivationGradOp::kRelu6Grad:
      return "Relu6Grad";
    case ActivationGradOp::kSigmoidGrad:
      return "SigmoidGrad";
    case ActivationGradOp::kTanhGrad:
      return "TanhGrad";
  }
  return "unknown";
}

template <typename T>
GpuStatus LaunchActivationGrad(ActivationGradOp op, const T* a, const T* b, T* out, int64_t n,
                               GpuStream stream) {
  if (n < 0) return GpuStatus::Error("activation gradient has a negative element count");
  constexpr bool kFloat = std::is_floating_point<T>::value;
  if (!kFloat && op != ActivationGradOp::kReluGrad && op != ActivationGradOp::kRelu6Grad) {
    return GpuStatus::Error(std::string(ActivationGradOpName(op)) +
                            " takes float values, got integers");
  }
  if (n == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (op) {
    case ActivationGradOp::kReluGrad:
      LaunchGrad<ActivationGradOp::kReluGrad, T>(a, b, out, n, s);
      break;
    case ActivationGradOp::kRelu6Grad:
      LaunchGrad<ActivationGradOp::kRelu6Grad, T>(a, b, out, n, s);
      break;
    case ActivationGradOp::kSigmoidGrad:
      if constexpr (kFloat) LaunchGrad<ActivationGradOp::kSigmoidGrad, T>(a, b, out, n, s);
      break;
    case ActivationGradOp::kTanhGrad:
      if constexpr (kFloat) LaunchGrad<ActivationGradOp::kTanhGrad, T>(a, b, out, n, s);
      break;
  }
  return internal::LaunchStatus(ActivationGradOpName(op));
}

template GpuStatus LaunchActivationGrad<float>(ActivationGradOp, const float*, const float*, float*,
                                               int64_t, GpuStream);
template GpuStatus LaunchActivationGrad<int32_t>(ActivationGradOp, const int32_t*, const int32_t*,
                                                 int32_t*, int64_t, GpuStream);
template GpuStatus LaunchActivationGrad<int64_t>(ActivationGradOp, const int64_t*, const int64_t*,
                                                 int64_t*, int64_t, GpuStream);

template <typename Label>
GpuStatus LaunchSparseSoftmaxCrossEntropy(const float* logits, const Label* labels, int64_t rows,
                                          int64_t classes, float* loss, float* backprop,
                                          GpuStream stream) {
  return LaunchXent<true, Label>(logits, XentLabels<true, Label>{labels, nullptr}, rows, classes,
                                 loss, backprop, stream, "SparseSoftmaxCrossEntropyWithLogits");
}

template GpuStatus LaunchSparseSoftmaxCrossEntropy<int32_t>(const float*, const int32_t*, int64_t,
                                                            int64_t, float*, float*, GpuStream);
template GpuStatus LaunchSparseSoftmaxCrossEntropy<int64_t>(const float*, const int64_t*, int64_t,
                                                            int64_t, float*, float*, GpuStream);

GpuStatus LaunchSoftmaxCrossEntropy(const float* logits, const float* labels, int64_t rows,
                                    int64_t classes, float* loss, float* backprop,
                                    GpuStream stream) {
  return LaunchXent<false, int32_t>(logits, XentLabels<false, int32_t>{nullptr, labels}, rows,
                                    classes, loss, backprop, stream,
                                    "SoftmaxCrossEntropyWithLogits");
}

}  // namespace gpu
}  // namespace weir
