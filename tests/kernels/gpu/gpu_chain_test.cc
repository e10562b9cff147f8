// gpu_chain_test.cc - LaunchElementwiseChain against the same ops launched one by one
// (LaunchUnary / LaunchBinary): every unary and binary float op, the accumulator on either side,
// a one-element operand, the accumulator as its own operand, and a chain of 2,000 steps. The
// fused chain must give the same bits (the compiler's elementwise-chain fusion promises it).
// Without a GPU every case warns "SKIPPED: no GPU".
#include <catch2/catch.hpp>

#ifdef WEIR_HAVE_CUDA

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/gpu/elementwise.h"
#include "tests/kernels/gpu/gpu_test_util.h"

namespace weir {
namespace gpu {
namespace {

using testing::DeviceBuffer;
using testing::RandomVector;

constexpr int kUnaryOps = static_cast<int>(UnaryOp::kReciprocal) + 1;
constexpr int kBinaryOps = static_cast<int>(BinaryOp::kFloorMod) + 1;

ChainStep Unary(UnaryOp op) {
  ChainStep s;
  s.is_binary = 0;
  s.op = static_cast<int8_t>(op);
  return s;
}

ChainStep Binary(BinaryOp op, int operand, bool acc_left) {
  ChainStep s;
  s.is_binary = 1;
  s.op = static_cast<int8_t>(op);
  s.operand = static_cast<int8_t>(operand);
  s.acc_left = acc_left ? 1 : 0;
  return s;
}

// Runs `steps` on `start` with `inputs` (inputs[0] is start) both ways and compares the bits.
void CheckChain(const std::vector<ChainStep>& steps, const std::vector<std::vector<float>>& inputs,
                const std::string& what) {
  INFO(what);
  const int64_t n = static_cast<int64_t>(inputs[0].size());
  std::vector<std::unique_ptr<DeviceBuffer<float>>> buffers;
  ChainOperands operands;
  operands.count = static_cast<int>(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    buffers.push_back(std::make_unique<DeviceBuffer<float>>(inputs[k]));
    operands.data[k] = buffers.back()->get();
    if (static_cast<int64_t>(inputs[k].size()) != n) operands.scalar_mask |= 1u << k;
  }
  DeviceBuffer<ChainStep> device_steps(steps.size());
  REQUIRE(cudaMemcpy(device_steps.get(), steps.data(), steps.size() * sizeof(ChainStep),
                     cudaMemcpyHostToDevice) == cudaSuccess);
  DeviceBuffer<float> fused(static_cast<size_t>(n));
  WEIR_REQUIRE_OK(LaunchElementwiseChain(buffers[0]->get(), operands, device_steps.get(),
                                         steps.data(), static_cast<int>(steps.size()),
                                         fused.get(), n, nullptr));

  // One by one: acc lives in its own buffer, each step writes a fresh one.
  DeviceBuffer<float> a(inputs[0]), b(static_cast<size_t>(n));
  DeviceBuffer<float>* acc = &a;
  DeviceBuffer<float>* next = &b;
  const GpuDims full = GpuDims(&n, 1);
  for (const ChainStep& s : steps) {
    if (!s.is_binary) {
      WEIR_REQUIRE_OK(LaunchUnary<float>(static_cast<UnaryOp>(s.op), acc->get(), next->get(), n,
                                         nullptr));
    } else {
      const float* operand = s.operand == ChainStep::kAccumulator ? acc->get()
                                                                  : buffers[s.operand]->get();
      const int64_t operand_n = s.operand == ChainStep::kAccumulator
                                    ? n
                                    : static_cast<int64_t>(inputs[s.operand].size());
      const GpuDims operand_dims = GpuDims(&operand_n, 1);
      const auto op = static_cast<BinaryOp>(s.op);
      if (s.acc_left) {
        WEIR_REQUIRE_OK(LaunchBinary<float>(op, acc->get(), full, operand, operand_dims,
                                            next->get(), nullptr));
      } else {
        WEIR_REQUIRE_OK(LaunchBinary<float>(op, operand, operand_dims, acc->get(), full,
                                            next->get(), nullptr));
      }
    }
    std::swap(acc, next);
  }
  const std::vector<float> got = fused.ToHost();
  const std::vector<float> want = acc->ToHost();
  REQUIRE(got.size() == want.size());
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++bad;
    }
  }
  INFO("first differing element " << first << ": fused "
                                  << (first >= 0 ? got[first] : 0.0f) << ", one by one "
                                  << (first >= 0 ? want[first] : 0.0f));
  CHECK(bad == 0);
}

TEST_CASE("gpu elementwise chain: each unary op gives the bits of the ops one by one") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  for (int64_t n : {int64_t{1}, int64_t{1000}}) {
    const std::vector<float> start = RandomVector<float>(n, 0.1, 2.0, 5);
    const std::vector<float> full = RandomVector<float>(n, 0.5, 1.5, 6);
    const std::vector<float> one = {1.25f};
    for (int u = 0; u < kUnaryOps; ++u) {
      const auto op = static_cast<UnaryOp>(u);
      // u, then the result mixed with a full operand and a one-element one, acc on both sides.
      const std::vector<ChainStep> steps = {
          Unary(op), Binary(BinaryOp::kAdd, 1, true), Binary(BinaryOp::kMul, 2, false),
          Binary(BinaryOp::kSub, 1, false), Unary(op)};
      CheckChain(steps, {start, full, one}, std::string(UnaryOpName(op)) + ", n " +
                                                std::to_string(n));
    }
  }
}

TEST_CASE("gpu elementwise chain: each binary op, either side, scalar and self operands") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const int64_t n = 777;
  const std::vector<float> start = RandomVector<float>(n, 0.2, 3.0, 7);
  const std::vector<float> full = RandomVector<float>(n, 0.5, 2.0, 8);
  const std::vector<float> one = {1.5f};
  for (int o = 0; o < kBinaryOps; ++o) {
    const auto op = static_cast<BinaryOp>(o);
    const std::vector<ChainStep> steps = {
        Binary(op, 1, true), Binary(op, 2, false), Binary(op, ChainStep::kAccumulator, true),
        Binary(op, 0, false),  // the chain's own start as an operand
        Binary(op, 2, true)};
    CheckChain(steps, {start, full, one}, BinaryOpName(op));
  }
}

TEST_CASE("gpu elementwise chain: 2,000 dependent Adds in one launch") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const int64_t n = 16;
  const std::vector<float> start = RandomVector<float>(n, -1.0, 1.0, 9);
  const std::vector<float> step = RandomVector<float>(n, 0.0, 0.01, 10);
  std::vector<ChainStep> steps;
  for (int i = 0; i < 2000; ++i) steps.push_back(Binary(BinaryOp::kAdd, i % 2 == 0 ? 0 : 1, true));
  CheckChain(steps, {start, step}, "2000 Adds");
}

TEST_CASE("gpu elementwise chain: bad steps are errors") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  DeviceBuffer<float> x(std::vector<float>(4, 1.0f));
  ChainOperands operands;
  operands.count = 1;
  operands.data[0] = x.get();
  const std::vector<ChainStep> steps = {Binary(BinaryOp::kAdd, 3, true)};  // no input 3
  DeviceBuffer<ChainStep> device_steps(1);
  CHECK_FALSE(
      LaunchElementwiseChain(x.get(), operands, device_steps.get(), steps.data(), 1, x.get(), 4,
                             nullptr)
          .ok());
}

}  // namespace
}  // namespace gpu
}  // namespace weir

#else  // !WEIR_HAVE_CUDA

TEST_CASE("gpu elementwise chain") { WARN("SKIPPED: no GPU (this build has no CUDA toolkit)"); }

#endif  // WEIR_HAVE_CUDA
