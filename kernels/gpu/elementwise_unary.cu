// elementwise_unary.cu - LaunchUnary: one flat grid-stride kernel per (op, type), with
// 16-byte vector loads and stores when both pointers are aligned.
#include <cstdint>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/elementwise_functors.cuh"

namespace weir {
namespace gpu {
namespace {

using internal::VectorOf;

template <typename Fn, typename T>
__global__ void UnaryKernel(Fn fn, const T* in, T* out, int64_t n) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    out[i] = fn(in[i]);
  }
}

// Each thread handles whole vectors of kWidth elements; the host runs the tail separately.
template <typename Fn, typename T, int kWidth>
__global__ void UnaryVectorKernel(Fn fn, const T* in, T* out, int64_t num_vectors) {
  const auto* vin = reinterpret_cast<const VectorOf<T, kWidth>*>(in);
  auto* vout = reinterpret_cast<VectorOf<T, kWidth>*>(out);
  for (int64_t i = internal::GlobalThreadIndex(); i < num_vectors;
       i += internal::GlobalThreadCount()) {
    VectorOf<T, kWidth> v = vin[i];
#pragma unroll
    for (int k = 0; k < kWidth; ++k) v.v[k] = fn(v.v[k]);
    vout[i] = v;
  }
}

template <UnaryOp kOp, typename T>
GpuStatus Run(const T* in, T* out, int64_t n, cudaStream_t stream) {
  if constexpr (!internal::UnarySupported<T>(kOp)) {
    return GpuStatus::Error(std::string("unary op ") + UnaryOpName(kOp) +
                            " is not defined for integer types");
  } else {
    internal::UnaryFn<kOp, T> fn;
    constexpr int kWidth = 16 / sizeof(T);
    int64_t done = 0;
    if (n >= kWidth && internal::IsAligned(in, 16) && internal::IsAligned(out, 16)) {
      const int64_t vectors = n / kWidth;
      UnaryVectorKernel<decltype(fn), T, kWidth>
          <<<internal::BlocksFor(vectors), internal::kThreadsPerBlock, 0, stream>>>(fn, in, out,
                                                                                    vectors);
      done = vectors * kWidth;
    }
    if (done < n) {
      UnaryKernel<<<internal::BlocksFor(n - done), internal::kThreadsPerBlock, 0, stream>>>(
          fn, in + done, out + done, n - done);
    }
    return internal::LaunchStatus(UnaryOpName(kOp));
  }
}

}  // namespace

const char* UnaryOpName(UnaryOp op) {
  switch (op) {
    case UnaryOp::kNeg: return "Neg";
    case UnaryOp::kAbs: return "Abs";
    case UnaryOp::kExp: return "Exp";
    case UnaryOp::kLog: return "Log";
    case UnaryOp::kLog1p: return "Log1p";
    case UnaryOp::kSqrt: return "Sqrt";
    case UnaryOp::kRsqrt: return "Rsqrt";
    case UnaryOp::kSquare: return "Square";
    case UnaryOp::kTanh: return "Tanh";
    case UnaryOp::kSigmoid: return "Sigmoid";
    case UnaryOp::kRelu: return "Relu";
    case UnaryOp::kRelu6: return "Relu6";
    case UnaryOp::kElu: return "Elu";
    case UnaryOp::kSoftplus: return "Softplus";
    case UnaryOp::kSign: return "Sign";
    case UnaryOp::kFloor: return "Floor";
    case UnaryOp::kCeil: return "Ceil";
    case UnaryOp::kRound: return "Round";
    case UnaryOp::kErf: return "Erf";
    case UnaryOp::kReciprocal: return "Reciprocal";
  }
  return "unknown";
}

template <typename T>
GpuStatus LaunchUnary(UnaryOp op, const T* in, T* out, int64_t n, GpuStream stream) {
  if (n < 0) return GpuStatus::Error("unary op has a negative element count");
  if (n == 0) return GpuStatus::Ok();
  cudaStream_t s = internal::AsCudaStream(stream);
  switch (op) {
#define WEIR_UNARY_CASE(name) \
  case UnaryOp::name:         \
    return Run<UnaryOp::name, T>(in, out, n, s);
    WEIR_UNARY_CASE(kNeg)
    WEIR_UNARY_CASE(kAbs)
    WEIR_UNARY_CASE(kExp)
    WEIR_UNARY_CASE(kLog)
    WEIR_UNARY_CASE(kLog1p)
    WEIR_UNARY_CASE(kSqrt)
    WEIR_UNARY_CASE(kRsqrt)
    WEIR_UNARY_CASE(kSquare)
    WEIR_UNARY_CASE(kTanh)
    WEIR_UNARY_CASE(kSigmoid)
    WEIR_UNARY_CASE(kRelu)
    WEIR_UNARY_CASE(kRelu6)
    WEIR_UNARY_CASE(kElu)
    WEIR_UNARY_CASE(kSoftplus)
    WEIR_UNARY_CASE(kSign)
    WEIR_UNARY_CASE(kFloor)
    WEIR_UNARY_CASE(kCeil)
    WEIR_UNARY_CASE(kRound)
    WEIR_UNARY_CASE(kErf)
    WEIR_UNARY_CASE(kReciprocal)
#undef WEIR_UNARY_CASE
  }
  return GpuStatus::Error("unknown unary op");
}

template GpuStatus LaunchUnary<float>(UnaryOp, const float*, float*, int64_t, GpuStream);
template GpuStatus LaunchUnary<int32_t>(UnaryOp, const int32_t*, int32_t*, int64_t, GpuStream);
template GpuStatus LaunchUnary<int64_t>(UnaryOp, const int64_t*, int64_t*, int64_t, GpuStream);

}  // namespace gpu
}  // namespace weir
