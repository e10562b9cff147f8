// gpu_graph_test.cc - CUDA-graph replay of GPU partitions (runtime/gpu_graph_runner.h): the
// second step of an input-shape signature captures, later steps replay with new inputs each
// time and match a CPU session; each signature gets its own graph; replay off captures
// nothing; a partition whose inputs depend on its own outputs (a CPU op between two GPU
// segments) is never captured; concurrent Runs stay correct.
//
// Every case needs a GPU: without one it says "SKIPPED: no GPU" and passes.
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "builder/math_extra_ops.h"
#include "builder/ops.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "tests/runtime/gpu/gpu_session_util.h"

namespace weir {
namespace {

Tensor RandomTensor(const TensorShape& shape, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  Tensor t(DT_FLOAT, shape);
  for (float& v : t.flat<float>()) v = dist(rng);
  return t;
}

// Largest |a - b| / max(|b|, floor) over the elements.
double MaxRelError(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    worst = std::max(worst, std::abs(x - y) / std::max(std::abs(y), 1e-3));
  }
  return worst;
}

// x [?, 64] -> MatMul(64x128) + BiasAdd + Relu -> MatMul(128x10) -> Softmax "probs"; with
// `cpu_middle`, a Sin (no GPU kernel: it runs on the CPU) between the two layers.
GraphDef TwoLayerGraph(bool cpu_middle) {
  Scope s = Scope::NewRootScope();
  std::mt19937 rng(11);
  auto weights = [&](const char* name, int64_t rows, int64_t cols) {
    std::uniform_real_distribution<float> dist(-0.2f, 0.2f);
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (float& x : v) x = dist(rng);
    return ops::Const(s.WithOpName(name), v, TensorShape({rows, cols}));
  };
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 64});
  Output h = ops::MatMul(s.WithOpName("mm0"), x, weights("w0", 64, 128));
  std::vector<float> bias(128, 0.05f);
  h = ops::BiasAdd(s.WithOpName("bias0"), h, ops::Const(s.WithOpName("b0"), bias, TensorShape({128})));
  h = ops::Relu(s.WithOpName("relu0"), h);
  if (cpu_middle) h = ops::Sin(s.WithOpName("sin"), h);
  h = ops::MatMul(s.WithOpName("mm1"), h, weights("w1", 128, 10));
  ops::Softmax(s.WithOpName("probs"), h);
  GraphDef def;
  REQUIRE(s.ok());
  REQUIRE(s.ToGraphDef(&def).ok());
  return def;
}

std::unique_ptr<Session> MakeSession(const GraphDef& def, int gpus, bool capture) {
  SessionOptions options;
  options.num_gpu_devices = gpus;
  options.gpu_graph_capture = capture;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  REQUIRE(session.ok());
  return *std::move(session);
}

// Runs `steps` steps with fresh inputs of the given batch sizes (cycling), comparing each with
// the CPU session.
void RunAndCompare(Session& gpu, Session& cpu, const std::vector<int64_t>& batches, int steps,
                   std::mt19937& rng) {
  for (int step = 0; step < steps; ++step) {
    const int64_t batch = batches[step % batches.size()];
    INFO("step " << step << ", batch " << batch);
    const Tensor x = RandomTensor(TensorShape({batch, 64}), rng);
    std::vector<Tensor> want, got;
    REQUIRE(cpu.Run({{"x", x}}, {"probs"}, {}, &want).ok());
    absl::Status s = gpu.Run({{"x", x}}, {"probs"}, {}, &got);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(MaxRelError(got[0], want[0]) <= 1e-4);
    // Replayed or not, a fetch from the GPU comes back in the pinned pool.
    CHECK(IsGpuHostTensor(got[0]));
  }
}

TEST_CASE("CUDA graphs: captured on a signature's second step, replayed with new inputs") {
  SKIP_WITHOUT_GPU();
  const GraphDef def = TwoLayerGraph(false);
  std::unique_ptr<Session> gpu = MakeSession(def, -1, true);
  if (gpu->gpu_device() == nullptr) {
    WARN("SKIPPED: no GPU (the session could not open one)");
    return;
  }
  std::unique_ptr<Session> cpu = MakeSession(def, 0, false);
  std::mt19937 rng(3);
  RunAndCompare(*gpu, *cpu, {4}, 1, rng);
  CHECK(gpu->num_gpu_graphs() == 0);  // the first step warms up
  RunAndCompare(*gpu, *cpu, {4}, 1, rng);
  CHECK(gpu->num_gpu_graphs() == 1);  // the second captures (and passed its check)
  RunAndCompare(*gpu, *cpu, {4}, 6, rng);  // replays, each with new values
  CHECK(gpu->num_gpu_graphs() == 1);
  // Nothing runs on the CPU around the GPU partition: the calling thread runs it directly.
  CHECK(gpu->num_direct_gpu_plans() == 1);
  // Another batch size is another signature, with its own graph; both keep working.
  RunAndCompare(*gpu, *cpu, {1, 4}, 8, rng);
  CHECK(gpu->num_gpu_graphs() == 2);
}

TEST_CASE("CUDA graphs: off by option, and never for a GPU-CPU-GPU partition") {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  {
    const GraphDef def = TwoLayerGraph(false);
    std::unique_ptr<Session> gpu = MakeSession(def, -1, false);
    if (gpu->gpu_device() == nullptr) {
      WARN("SKIPPED: no GPU (the session could not open one)");
      return;
    }
    std::unique_ptr<Session> cpu = MakeSession(def, 0, false);
    RunAndCompare(*gpu, *cpu, {4}, 5, rng);
    CHECK(gpu->num_gpu_graphs() == 0);
  }
  {
    // mm0 on the GPU, sin on the CPU, mm1 on the GPU: the GPU partition's inputs (sin's
    // output) depend on its outputs, so it cannot receive them all before starting.
    const GraphDef def = TwoLayerGraph(true);
    std::unique_ptr<Session> gpu = MakeSession(def, -1, true);
    std::unique_ptr<Session> cpu = MakeSession(def, 0, false);
    RunAndCompare(*gpu, *cpu, {4}, 5, rng);
    CHECK(gpu->num_gpu_graphs() == 0);
    CHECK(gpu->num_direct_gpu_plans() == 0);
  }
}

TEST_CASE("CUDA graphs: concurrent Runs on one session stay correct") {
  SKIP_WITHOUT_GPU();
  const GraphDef def = TwoLayerGraph(false);
  std::unique_ptr<Session> gpu = MakeSession(def, -1, true);
  if (gpu->gpu_device() == nullptr) {
    WARN("SKIPPED: no GPU (the session could not open one)");
    return;
  }
  std::unique_ptr<Session> cpu = MakeSession(def, 0, false);
  constexpr int kThreads = 4;
  constexpr int kSteps = 20;
  std::vector<std::vector<Tensor>> inputs(kThreads), want(kThreads);
  std::mt19937 rng(9);
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kSteps; ++k) {
      inputs[t].push_back(RandomTensor(TensorShape({8, 64}), rng));
      std::vector<Tensor> out;
      REQUIRE(cpu->Run({{"x", inputs[t][k]}}, {"probs"}, {}, &out).ok());
      want[t].push_back(out[0]);
    }
  }
  std::vector<double> worst(kThreads, 0);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kSteps; ++k) {
        std::vector<Tensor> got;
        if (!gpu->Run({{"x", inputs[t][k]}}, {"probs"}, {}, &got).ok()) {
          ++failures[t];
          continue;
        }
        const Tensor& w = want[t][k];
        for (int64_t i = 0; i < w.num_elements(); ++i) {
          const double a = got[0].data<float>()[i], b = w.data<float>()[i];
          worst[t] = std::max(worst[t], std::abs(a - b) / std::max(std::abs(b), 1e-3));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(failures[t] == 0);
    CHECK(worst[t] <= 1e-4);
  }
}

}  // namespace
}  // namespace weir
