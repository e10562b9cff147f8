// elementwise_chain.cu - LaunchElementwiseChain: a chain of float elementwise ops in one kernel.
// Each thread takes elements in a grid-stride loop and runs every step on its accumulator in a
// register; the steps are read from device memory (the same for every thread, so they come
// from the cache). Each step calls the functor LaunchUnary / LaunchBinary use for that op, so a
// fused chain gives the same bits as the ops run one by one.
#include <cstdint>
#include <string>

#include "kernels/gpu/cuda_helpers.cuh"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/elementwise_functors.cuh"

namespace weir {
namespace gpu {
namespace {

using internal::BinaryFn;
using internal::UnaryFn;

__device__ __forceinline__ float ApplyUnary(int op, float x) {
  switch (static_cast<UnaryOp>(op)) {
    case UnaryOp::kNeg: return UnaryFn<UnaryOp::kNeg, float>()(x);
    case UnaryOp::kAbs: return UnaryFn<UnaryOp::kAbs, float>()(x);
    case UnaryOp::kExp: return UnaryFn<UnaryOp::kExp, float>()(x);
    case UnaryOp::kLog: return UnaryFn<UnaryOp::kLog, float>()(x);
    case UnaryOp::kLog1p: return UnaryFn<UnaryOp::kLog1p, float>()(x);
    case UnaryOp::kSqrt: return UnaryFn<UnaryOp::kSqrt, float>()(x);
    case UnaryOp::kRsqrt: return UnaryFn<UnaryOp::kRsqrt, float>()(x);
    case UnaryOp::kSquare: return UnaryFn<UnaryOp::kSquare, float>()(x);
    case UnaryOp::kTanh: return UnaryFn<UnaryOp::kTanh, float>()(x);
    case UnaryOp::kSigmoid: return UnaryFn<UnaryOp::kSigmoid, float>()(x);
    case UnaryOp::kRelu: return UnaryFn<UnaryOp::kRelu, float>()(x);
    case UnaryOp::kRelu6: return UnaryFn<UnaryOp::kRelu6, float>()(x);
    case UnaryOp::kElu: return UnaryFn<UnaryOp::kElu, float>()(x);
    case UnaryOp::kSoftplus: return UnaryFn<UnaryOp::kSoftplus, float>()(x);
    case UnaryOp::kSign: return UnaryFn<UnaryOp::kSign, float>()(x);
    case UnaryOp::kFloor: return UnaryFn<UnaryOp::kFloor, float>()(x);
    case UnaryOp::kCeil: return UnaryFn<UnaryOp::kCeil, float>()(x);
    case UnaryOp::kRound: return UnaryFn<UnaryOp::kRound, float>()(x);
    case UnaryOp::kErf: return UnaryFn<UnaryOp::kErf, float>()(x);
    case UnaryOp::kReciprocal: return UnaryFn<UnaryOp::kReciprocal, float>()(x);
  }
  return x;  // unreachable: the host checked every op
}

__device__ __forceinline__ float ApplyBinary(int op, float x, float y) {
  switch (static_cast<BinaryOp>(op)) {
    case BinaryOp::kAdd: return BinaryFn<BinaryOp::kAdd, float>()(x, y);
    case BinaryOp::kSub: return BinaryFn<BinaryOp::kSub, float>()(x, y);
    case BinaryOp::kMul: return BinaryFn<BinaryOp::kMul, float>()(x, y);
    case BinaryOp::kDiv: return BinaryFn<BinaryOp::kDiv, float>()(x, y);
    case BinaryOp::kMaximum: return BinaryFn<BinaryOp::kMaximum, float>()(x, y);
    case BinaryOp::kMinimum: return BinaryFn<BinaryOp::kMinimum, float>()(x, y);
    case BinaryOp::kPow: return BinaryFn<BinaryOp::kPow, float>()(x, y);
    case BinaryOp::kSquaredDifference:
      return BinaryFn<BinaryOp::kSquaredDifference, float>()(x, y);
    case BinaryOp::kFloorDiv: return BinaryFn<BinaryOp::kFloorDiv, float>()(x, y);
    case BinaryOp::kFloorMod: return BinaryFn<BinaryOp::kFloorMod, float>()(x, y);
  }
  return x;  // unreachable: the host checked every op
}

__global__ void ChainKernel(const float* start, ChainOperands operands, const ChainStep* steps,
                            int num_steps, float* out, int64_t n) {
  for (int64_t i = internal::GlobalThreadIndex(); i < n; i += internal::GlobalThreadCount()) {
    float acc = start[i];
    for (int s = 0; s < num_steps; ++s) {
      const ChainStep step = steps[s];
      if (!step.is_binary) {
        acc = ApplyUnary(step.op, acc);
        continue;
      }
      float b = acc;
      if (step.operand != ChainStep::kAccumulator) {
        const int k = step.operand;
        b = operands.data[k][(operands.scalar_mask >> k) & 1u ? 0 : i];
      }
      acc = step.acc_left ? ApplyBinary(step.op, acc, b) : ApplyBinary(step.op, b, acc);
    }
    out[i] = acc;
  }
}

bool KnownUnary(int op) { return op >= 0 && op <= static_cast<int>(UnaryOp::kReciprocal); }
bool KnownBinary(int op) { return op >= 0 && op <= static_cast<int>(BinaryOp::kFloorMod); }

}  // namespace

GpuStatus LaunchElementwiseChain(const float* start, const ChainOperands& operands,
                                 const ChainStep* steps, const ChainStep* host_steps,
                                 int num_steps, float* out, int64_t n, GpuStream stream) {
  if (n < 0 || num_steps < 0 || operands.count < 0 || operands.count > kMaxChainOperands) {
    return GpuStatus::Error("elementwise chain: negative sizes or more than " +
                            std::to_string(kMaxChainOperands) + " operands");
  }
  if (host_steps != nullptr) {
    for (int s = 0; s < num_steps; ++s) {
      const ChainStep& step = host_steps[s];
      const bool known = step.is_binary ? KnownBinary(step.op) : KnownUnary(step.op);
      const bool operand_ok =
          !step.is_binary || step.operand == ChainStep::kAccumulator ||
          (step.operand >= 0 && step.operand < operands.count &&
           operands.data[step.operand] != nullptr);
      if (!known || !operand_ok) {
        return GpuStatus::Error("elementwise chain: step " + std::to_string(s) +
                                " names an unknown op or operand");
      }
    }
  }
  if (n == 0) return GpuStatus::Ok();
  ChainKernel<<<internal::BlocksFor(n), internal::kThreadsPerBlock, 0,
                internal::AsCudaStream(stream)>>>(start, operands, steps, num_steps, out, n);
  return internal::LaunchStatus("ElementwiseChain");
}

}  // namespace gpu
}  // namespace weir
