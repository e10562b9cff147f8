// inplace_test.cc - In-place execution: KernelContext::forward_input_or_allocate_output takes
// over an input buffer only when nothing else holds it, elementwise chains then run in the
// memory the static plan predicts, and results stay right when branches run in parallel.
//
// The peak-memory case must run first in this binary: CpuAllocator's peak is process-wide and
// only grows, so it uses tensors larger than anything else here.
#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

#include "builder/ops.h"
#include "compiler/memory_plan.h"
#include "graph/convert.h"
#include "runtime/allocator.h"
#include "runtime/device.h"
#include "runtime/kernel.h"
#include "runtime/session.h"

namespace weir {
namespace {

constexpr int64_t kElements = 4 << 20;  // 16 MiB of float
constexpr int64_t kBytes = kElements * 4;

TEST_CASE("an elementwise chain runs in the memory the plan predicts", "[inplace]") {
  // x (fed) -> Exp -> Neg -> Tanh -> Relu -> Sigmoid: after the first op every step can
  // overwrite its input, so the step needs one 16 MiB buffer besides the feed, not two.
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {kElements});
  auto y = ops::Sigmoid(s.WithOpName("y"),
                        ops::Relu(s, ops::Tanh(s, ops::Neg(s, ops::Exp(s, x)))));
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());

  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  absl::StatusOr<MemoryPlan> plan = PlanMemory(**graph);
  REQUIRE(plan.ok());
  INFO(plan->DebugString());
  CHECK(plan->num_in_place == 4);
  CHECK(plan->arena_bytes == kBytes);

  SessionOptions options;
  options.inter_op_threads = 1;
  auto session = Session::Create(def, options);
  REQUIRE(session.ok());
  Tensor input(DT_FLOAT, {kElements});
  for (int64_t i = 0; i < kElements; ++i) input.data<float>()[i] = 0.001f * (i % 1000) - 0.5f;
  CpuAllocator* allocator = CpuAllocator::Get();
  const int64_t before = allocator->bytes_in_use();
  std::vector<Tensor> out;
  REQUIRE((*session)->Run({{"x", input}}, {"y"}, {}, &out).ok());
  // The step's peak above what was live before it: the plan's arena (the fetched output is
  // that buffer). Without in-place it would be at least twice that.
  const int64_t step_peak = allocator->peak_bytes_in_use() - before;
  CHECK(step_peak >= kBytes);
  CHECK(step_peak < 2 * kBytes);
  // And the numbers are right.
  for (int64_t i = 0; i < kElements; i += 4099) {
    const double v = input.data<float>()[i];
    const double want = 1.0 / (1.0 + std::exp(-std::max(0.0, std::tanh(-std::exp(v)))));
    REQUIRE(std::abs(out[0].data<float>()[i] - want) < 1e-6);
  }
  // The feed was not touched.
  CHECK(input.data<float>()[1] == Approx(0.001f - 0.5f));
}

TEST_CASE("forward_input_or_allocate_output takes only an unshared buffer", "[inplace]") {
  CpuDevice cpu;
  Device* device = &cpu;
  std::vector<Tensor> inputs(1), outputs(1);
  SECTION("sole holder, same dtype and shape: forwarded") {
    inputs[0] = Tensor(DT_FLOAT, {8});
    const void* data = inputs[0].raw_data();
    KernelContext ctx(device, nullptr, &inputs, &outputs);
    absl::StatusOr<Tensor*> out = ctx.forward_input_or_allocate_output(0, 0, DT_FLOAT, {8});
    REQUIRE(out.ok());
    CHECK((*out)->raw_data() == data);
  }
  SECTION("another holder (a fetch, a constant, a feed): allocated") {
    Tensor kept(DT_FLOAT, {8});
    inputs[0] = kept;
    KernelContext ctx(device, nullptr, &inputs, &outputs);
    absl::StatusOr<Tensor*> out = ctx.forward_input_or_allocate_output(0, 0, DT_FLOAT, {8});
    REQUIRE(out.ok());
    CHECK((*out)->raw_data() != kept.raw_data());
  }
  SECTION("different dtype or shape: allocated") {
    inputs[0] = Tensor(DT_FLOAT, {8});
    const void* data = inputs[0].raw_data();
    KernelContext ctx(device, nullptr, &inputs, &outputs);
    absl::StatusOr<Tensor*> out = ctx.forward_input_or_allocate_output(0, 0, DT_INT32, {8});
    REQUIRE(out.ok());
    CHECK((*out)->raw_data() != data);
    out = ctx.forward_input_or_allocate_output(0, 0, DT_FLOAT, {2, 4});
    REQUIRE(out.ok());
    CHECK((*out)->raw_data() != data);
  }
}

TEST_CASE("in place stays correct when branches share an input and run in parallel",
          "[inplace]") {
  // a feeds two elementwise branches and a broadcast Add: whichever runs last may take a's
  // buffer, never the first one.
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {256, 64});
  auto bias = ops::Placeholder(s.WithOpName("bias"), DT_FLOAT, {64});
  auto a = ops::Exp(s, x);
  auto b = ops::Neg(s, a);
  auto c = ops::Tanh(s, a);
  auto d = ops::Add(s, a, bias);
  auto y = ops::AddN(s.WithOpName("y"), {ops::Mul(s, b, c), d});
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  SessionOptions options;
  options.inter_op_threads = 2;
  auto session = Session::Create(def, options);
  REQUIRE(session.ok());
  Tensor xin(DT_FLOAT, {256, 64}), bin(DT_FLOAT, {64});
  for (int i = 0; i < 256 * 64; ++i) xin.data<float>()[i] = 0.0007f * (i % 997) - 0.3f;
  for (int i = 0; i < 64; ++i) bin.data<float>()[i] = 0.01f * i;
  auto check = [&](const Tensor& out) {
    for (int i = 0; i < 256 * 64; i += 37) {
      const double e = std::exp(static_cast<double>(xin.data<float>()[i]));
      const double want = -e * std::tanh(e) + e + bin.data<float>()[i % 64];
      if (std::abs(out.data<float>()[i] - want) > 1e-5 * (1 + std::abs(want))) return false;
    }
    return true;
  };
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < 50; ++r) {
        std::vector<Tensor> out;
        if (!(*session)->Run({{"x", xin}, {"bias", bin}}, {"y"}, {}, &out).ok() ||
            !check(out[0])) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(bad.load() == 0);
}

}  // namespace
}  // namespace weir
