// gpu_training_test.cc - The seed model's training step on the GPU against the CPU: the graph of
// tools/seed_model.h (784 -> Dense(64, ReLU) -> Dense(10), sparse softmax cross-entropy, Adam)
// with a static batch of 128 and a seeded initializer, trained 5 steps on the same batches by a
// GPU session and by a CPU-only one (num_gpu_devices = 0). The initial variables, every step's
// loss and the final variables must agree within 1e-4 relative, and the placement log must put
// the forward and backward compute on /device:GPU:0 (GEMMs, ReluGrad, BiasAddGrad, the loss and
// everything else with a GPU kernel), leaving only the variables, Adam's updates and the feeds
// and fetches on the CPU. With CUDA-graph replay (the default) and without.
//
// Every case needs a GPU: without one it says "SKIPPED: no GPU" and passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "tests/runtime/gpu/gpu_session_util.h"
#include "runtime/tensor.h"
#include "tools/seed_model.h"

namespace weir {
namespace {

using testing::PlacementLog;

constexpr char kGpu[] = "/device:GPU:0";
constexpr int64_t kBatch = 128;
constexpr int kSteps = 5;

// A placement line's op and device.
struct Placed {
  std::string op;
  std::string device;
  std::string name;
};
Placed ParseLine(const std::string& line) {
  const size_t open = line.find(": (");
  const size_t close = line.find("): ", open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return {line.substr(open + 3, close - open - 3), line.substr(close + 3), line.substr(0, open)};
}

// The ops of the step that stay on the CPU by design (as gpu_training_coverage_test.cc):
// variables and their optimizer updates, feeds and fetches, NoOp; and Consts whose consumers
// all run there (placement moves them to their consumers).
bool CpuByDesign(const std::string& op) {
  static const std::set<std::string> ops = {
      "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp",
      "AssignSubVariableOp", "NoOp", "Placeholder", "_Arg", "_Retval", "Const"};
  return ops.count(op) != 0 || absl::StartsWith(op, "ResourceApply");
}

GraphDef SeedTrainingGraph() {
  seed_model::Options options;
  options.batch_size = kBatch;
  options.seed = 42;
  absl::StatusOr<GraphDef> def = seed_model::Build(options);
  INFO(def.status().ToString());
  REQUIRE(def.ok());
  return *std::move(def);
}

std::unique_ptr<Session> MakeSession(const GraphDef& def, const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  return *std::move(session);
}

// Feeds of each step: images uniform in [0, 1) (as Fashion-MNIST's scaled pixels) and labels
// uniform in [0, 10), the same for every session.
std::vector<std::vector<std::pair<std::string, Tensor>>> Batches() {
  std::mt19937 rng(20240607);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  std::uniform_int_distribution<int32_t> label(0, 9);
  std::vector<std::vector<std::pair<std::string, Tensor>>> batches;
  for (int step = 0; step < kSteps; ++step) {
    Tensor x(DT_FLOAT, {kBatch, 784});
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = pixel(rng);
    Tensor y(DT_INT32, {kBatch});
    for (int64_t i = 0; i < kBatch; ++i) y.data<int32_t>()[i] = label(rng);
    batches.push_back({{seed_model::kInput, x}, {seed_model::kLabels, y}});
  }
  return batches;
}

std::vector<std::string> VariableReads() {
  std::vector<std::string> reads;
  for (const char* v : seed_model::kVariables) {
    reads.push_back(absl::StrCat(v, "/Read/ReadVariableOp"));
  }
  return reads;
}

struct Trained {
  std::vector<Tensor> initial;  // the variables after init, in seed_model::kVariables order
  std::vector<float> losses;    // each step's loss
  std::vector<Tensor> final;    // the variables after the last step
  std::vector<std::string> step_placement;  // the train step's placement lines
};

// Initializes the variables, runs the steps (fetching the loss) and reads the variables back.
Trained Train(Session& session, PlacementLog* log) {
  Trained t;
  std::vector<Tensor> out;
  REQUIRE(session.Run({}, {}, {seed_model::kInit}, &out).ok());
  absl::Status s = session.Run({}, VariableReads(), {}, &t.initial);
  INFO(s.ToString());
  REQUIRE(s.ok());
  if (log != nullptr) log->Clear();
  for (const auto& feeds : Batches()) {
    s = session.Run(feeds, {seed_model::kLoss}, {seed_model::kTrainOp}, &out);
    INFO("step " << t.losses.size() << ": " << s.ToString());
    REQUIRE(s.ok());
    REQUIRE(out.size() == 1);
    t.losses.push_back(out[0].data<float>()[0]);
  }
  if (log != nullptr) t.step_placement = log->Lines();
  s = session.Run({}, VariableReads(), {}, &t.final);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return t;
}

// max |got - want| / max |want| over two float tensors of one shape: the error relative to
// the tensor's scale (a bias that starts at 0 is judged by its largest element, not each
// element by itself). +inf when the shapes differ or a value is not finite.
double RelativeError(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DT_FLOAT || want.dtype() != DT_FLOAT || got.shape() != want.shape()) {
    return std::numeric_limits<double>::infinity();
  }
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<float>()[i], w = want.data<float>()[i];
    if (!std::isfinite(g) || !std::isfinite(w)) return std::numeric_limits<double>::infinity();
    max_diff = std::max(max_diff, std::abs(g - w));
    max_ref = std::max(max_ref, std::abs(w));
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

TEST_CASE("GPU training: the seed model's Adam steps match the CPU, compute on the GPU") {
  SKIP_WITHOUT_GPU();
  const GraphDef def = SeedTrainingGraph();
  SessionOptions cpu_options;
  cpu_options.num_gpu_devices = 0;
  std::unique_ptr<Session> cpu = MakeSession(def, cpu_options);
  REQUIRE(cpu->gpu_device() == nullptr);
  const Trained want = Train(*cpu, nullptr);
  // Training moved the weights: the comparison below is of something.
  REQUIRE(RelativeError(want.final[0], want.initial[0]) > 1e-3);

  // With CUDA-graph replay (the default: the GPU partition is captured on the second step and
  // replayed from the third) and without.
  for (bool capture : {true, false}) {
    INFO("gpu_graph_capture " << capture);
    PlacementLog log;
    SessionOptions options;
    options.gpu_graph_capture = capture;
    log.Attach(&options);
    std::unique_ptr<Session> gpu = MakeSession(def, options);
    if (gpu->gpu_device() == nullptr) {
      WARN("SKIPPED: no GPU (the session could not open one)");
      return;
    }
    INFO("GPU: " << gpu->gpu_device()->description());
    const Trained got = Train(*gpu, &log);

    // The same seeded initial values (drawn on the CPU, scaled wherever placement put it).
    for (size_t v = 0; v < want.initial.size(); ++v) {
      INFO("initial " << seed_model::kVariables[v]);
      CHECK(RelativeError(got.initial.at(v), want.initial[v]) <= 1e-6);
    }
    for (int step = 0; step < kSteps; ++step) {
      INFO("step " << step << ": loss " << got.losses[step] << " on the GPU, "
                   << want.losses[step] << " on the CPU");
      CHECK(std::abs(got.losses[step] - want.losses[step]) <= 1e-4 * std::abs(want.losses[step]));
    }
    for (size_t v = 0; v < want.final.size(); ++v) {
      const double err = RelativeError(got.final.at(v), want.final[v]);
      INFO("final " << seed_model::kVariables[v] << ": relative error " << err);
      CHECK(err <= 1e-4);
    }

    // Placement of the train step: the forward and backward compute on the GPU.
    std::vector<std::string> off_gpu;
    int gemms = 0, relu_grads = 0, bias_grads = 0, losses = 0;
    for (const std::string& line : got.step_placement) {
      const Placed p = ParseLine(line);
      const bool on_gpu = p.device == kGpu;
      // Adam's scalar beta-power updates stay with the variables on the CPU by design
      // (placement rule 5, compiler/placement.h).
      const bool scalar_update = absl::StartsWith(p.name, "train/mul_beta");
      if (!on_gpu && !CpuByDesign(p.op) && !scalar_update) off_gpu.push_back(line);
      if (!on_gpu) continue;
      gemms += p.op == "MatMul" || p.op == "_FusedMatMul";
      relu_grads += p.op == "ReluGrad";
      bias_grads += p.op == "BiasAddGrad";
      losses += p.op == "SparseSoftmaxCrossEntropyWithLogits";
    }
    INFO("train step placement:\n  " << absl::StrJoin(got.step_placement, "\n  "));
    INFO("compute off the GPU:\n  " << absl::StrJoin(off_gpu, "\n  "));
    CHECK(off_gpu.empty());
    // Two GEMMs forward, three backward (the input's gradient is not needed).
    CHECK(gemms >= 5);
    CHECK(relu_grads == 1);
    CHECK(bias_grads == 2);
    CHECK(losses == 1);
    if (capture) WARN("CUDA graphs captured: " << gpu->num_gpu_graphs());
  }
}

}  // namespace
}  // namespace weir
