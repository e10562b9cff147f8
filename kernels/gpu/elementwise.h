// elementwise.h - Launchers for the elementwise family: unary ops and broadcasting binary ops.
//
// One templated family (elementwise_functors.cuh holds one small functor per op): a unary op
// is a flat loop; a binary op broadcasts as NumPy and TensorFlow do, up to rank 8, after
// collapsing dimensions that broadcast the same way (shape_util.h), then runs one of three
// kernels: same shape (16-byte vector loads when aligned), one scalar operand, or strided.
#ifndef WEIR_KERNELS_GPU_ELEMENTWISE_H_
#define WEIR_KERNELS_GPU_ELEMENTWISE_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// TensorFlow op names; every op takes float. Ops marked (int) also take int32 and int64;
// the rest report an error for integer types.
enum class UnaryOp {
  kNeg,         // (int)
  kAbs,         // (int)
  kExp,
  kLog,
  kLog1p,
  kSqrt,
  kRsqrt,
  kSquare,      // (int)
  kTanh,
  kSigmoid,
  kRelu,        // (int)
  kRelu6,       // (int)
  kElu,
  kSoftplus,
  kSign,        // (int)
  kFloor,       // (int: identity)
  kCeil,        // (int: identity)
  kRound,       // half to even, as TensorFlow; (int: identity)
  kErf,
  kReciprocal,
};

// All take float, int32 and int64. Integer division by zero gives 0 (a GPU kernel cannot
// raise a per-element error); integer Pow with a negative exponent gives the truncated value
// (1 or -1 for bases 1 and -1, otherwise 0). FloorDiv and FloorMod round toward negative
// infinity as TensorFlow defines them; Div on integers truncates toward zero.
enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,  // RealDiv for float
  kMaximum,
  kMinimum,
  kPow,
  kSquaredDifference,
  kFloorDiv,
  kFloorMod,
};

const char* UnaryOpName(UnaryOp op);
const char* BinaryOpName(BinaryOp op);

// out[i] = op(in[i]) for i < num_elements. `in` may equal `out` (in-place).
// T is float, int32_t or int64_t.
template <typename T>
GpuStatus LaunchUnary(UnaryOp op, const T* in, T* out, int64_t num_elements, GpuStream stream);

// out = op(lhs, rhs) with broadcasting; `out` has BroadcastShapes(lhs_shape, rhs_shape)'s
// shape and may alias an operand whose shape equals it. T is float, int32_t or int64_t.
template <typename T>
GpuStatus LaunchBinary(BinaryOp op, const T* lhs, const GpuDims& lhs_shape, const T* rhs,
                       const GpuDims& rhs_shape, T* out, GpuStream stream);

// ---- Comparisons and logic: bool results, broadcasting as LaunchBinary ----
enum class CompareOp { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };
enum class LogicalOp { kAnd, kOr };
const char* CompareOpName(CompareOp op);
// out = lhs op rhs (a comparison with a NaN is false, except NotEqual). T is float, int32_t,
// int64_t or bool.
template <typename T>
GpuStatus LaunchCompare(CompareOp op, const T* lhs, const GpuDims& lhs_shape, const T* rhs,
                        const GpuDims& rhs_shape, bool* out, GpuStream stream);
GpuStatus LaunchLogical(LogicalOp op, const bool* lhs, const GpuDims& lhs_shape, const bool* rhs,
                        const GpuDims& rhs_shape, bool* out, GpuStream stream);
// out[i] = !in[i] for i < n (`in` may equal `out`).
GpuStatus LaunchLogicalNot(const bool* in, bool* out, int64_t n, GpuStream stream);

// ---- Chains (compiler/passes/elementwise_chain.h, op _WeirElementwiseChain) ----

// One step of a float chain: acc = unary(acc), or binary(acc, b) / binary(b, acc) with b an
// operand tensor (element i, or element 0 of a one-element operand) or the accumulator itself.
struct ChainStep {
  static constexpr int8_t kAccumulator = -2;  // operand: acc itself (x op x)
  static constexpr int8_t kNone = -1;         // operand of a unary step
  int8_t is_binary = 0;
  int8_t op = 0;        // a UnaryOp or BinaryOp value
  int8_t operand = kNone;  // index into ChainOperands, kAccumulator or kNone
  int8_t acc_left = 1;  // binary: acc is the left operand
};

inline constexpr int kMaxChainOperands = 16;

// The tensors a chain reads, passed by value to the kernel: operand k has n elements, or one
// when bit k of scalar_mask is set.
struct ChainOperands {
  const float* data[kMaxChainOperands] = {};
  uint32_t scalar_mask = 0;
  int count = 0;
};

// out[i] = the chain applied to start[i], for i < n: one kernel, every step in registers,
// each op computed as LaunchUnary/LaunchBinary compute it (the same functions, the same order:
// bit-identical results). `steps` lives in device memory (num_steps of them); `out` may equal
// `start`. Fails for an op a step does not name or an operand index out of range (checked on
// the host only for `host_steps`, the same steps in host memory).
GpuStatus LaunchElementwiseChain(const float* start, const ChainOperands& operands,
                                 const ChainStep* steps, const ChainStep* host_steps,
                                 int num_steps, float* out, int64_t n, GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_ELEMENTWISE_H_
