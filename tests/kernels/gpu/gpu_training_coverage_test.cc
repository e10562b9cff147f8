// gpu_training_coverage_test.cc - Every compute op of the seed model's training step has a GPU
// kernel. Runs without a GPU: it asks the kernel registry, not the device.
//
// The graph is tools/seed_model.h's (784 -> Dense(64, ReLU) -> Dense(10), sparse softmax
// cross-entropy, Adam) with a static batch of 128, compiled as a Session compiles the step that
// fetches the loss and runs the train op: the opt-level-2 pipeline with those two kept. Each
// node left must have a GPU kernel row that accepts it (DefaultKernelRegistry().Find, constraints
// included), except the ops that stay on the CPU on purpose: the variables and their optimizer
// updates (weights go to the GPU and gradients come back each step), the feeds and fetches, and
// NoOp. A new op in the step without a GPU kernel (a gradient the builder starts emitting, a
// fold that stops happening) fails here, before a GPU run would quietly put it on the CPU.
//
// The node list is checked against what a real CPU session compiles for the same step (its
// placement log), so this test cannot drift from the session's own pipeline. Placed with a
// stand-in GPU, the step's GPU partition must be replayable as a CUDA graph
// (GpuGraphRunner::CheckReplayable), and stops being so when the beta-power updates move to
// the GPU.
#include <memory>
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
#include "compiler/pass.h"
#include "compiler/pipeline.h"
#include "compiler/partition.h"
#include "compiler/placement.h"
#include "graph/graph.h"
#include "kernels/registry.h"
#include "runtime/device.h"
#include "runtime/gpu_graph_runner.h"
#include "runtime/session.h"
#include "runtime/tensor.h"
#include "tools/seed_model.h"

namespace weir {
namespace {

constexpr int64_t kBatch = 128;

// Ops of the step that stay on the CPU by design: resource variables and their updates have no
// GPU kernels (the brief keeps the optimizer on the host), feeds and fetches are host tensors,
// and NoOp only orders.
bool CpuByDesign(const std::string& op) {
  static const std::set<std::string> ops = {
      "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp",
      "AssignSubVariableOp", "NoOp", "Placeholder", "_Arg", "_Retval"};
  return ops.count(op) != 0 || absl::StartsWith(op, "ResourceApply");
}

GraphDef SeedTrainingGraph() {
  seed_model::Options options;
  options.batch_size = kBatch;
  absl::StatusOr<GraphDef> def = seed_model::Build(options);
  INFO(def.status().ToString());
  REQUIRE(def.ok());
  return *std::move(def);
}

// The op of a placement log line "name: (Op): /device:CPU:0".
std::string OpOfLine(const std::string& line) {
  const size_t open = line.find(": (");
  const size_t close = line.find("): ", open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 3, close - open - 3);
}

TEST_CASE("training coverage: every compute op of the seed training step has a GPU kernel") {
  // A CPU-only session compiles and runs the step; its placement log lists the nodes of the
  // step's plan exactly as the session's pipeline left them.
  absl::Mutex mu;
  std::vector<std::string> lines;
  SessionOptions options;
  options.num_gpu_devices = 0;
  options.placement_log = [&](const std::string& line) {
    absl::MutexLock lock(&mu);
    lines.push_back(line);
  };
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(SeedTrainingGraph(), options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  std::vector<Tensor> out;
  REQUIRE((*session)->Run({}, {}, {seed_model::kInit}, &out).ok());
  {
    absl::MutexLock lock(&mu);
    lines.clear();
  }
  Tensor x(DT_FLOAT, {kBatch, 784});
  Tensor labels(DT_INT32, {kBatch});
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = 0.001f * (i % 997);
  for (int64_t i = 0; i < kBatch; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
  absl::Status step = (*session)->Run({{seed_model::kInput, x}, {seed_model::kLabels, labels}},
                                      {seed_model::kLoss}, {seed_model::kTrainOp}, &out);
  INFO(step.ToString());
  REQUIRE(step.ok());
  std::set<std::string> session_ops;
  {
    absl::MutexLock lock(&mu);
    for (const std::string& line : lines) session_ops.insert(OpOfLine(line));
  }
  session_ops.erase("_Arg");
  session_ops.erase("_Retval");

  // The same compilation on a copy of the session's graph, for Node objects to ask the
  // registry about (constraints look at the node's inputs). Feeds stay Placeholders here; the
  // session turns them into _Arg nodes of the same shape, which folds the same way.
  std::unique_ptr<Graph> graph = (*session)->graph().Clone();
  PassContext context;
  context.opt_level = 2;
  context.keep_nodes = {seed_model::kLoss, seed_model::kTrainOp};
  absl::Status compiled = RunPipeline(*graph, context);
  INFO(compiled.ToString());
  REQUIRE(compiled.ok());
  std::set<std::string> pipeline_ops;
  for (const Node* node : graph->nodes()) pipeline_ops.insert(node->op());
  pipeline_ops.erase("Placeholder");
  INFO("session's step: " << absl::StrJoin(session_ops, ", "));
  INFO("pipeline here: " << absl::StrJoin(pipeline_ops, ", "));
  REQUIRE(session_ops == pipeline_ops);

  // With a static batch, shape arithmetic folds away: none of it may be left for the CPU.
  for (const char* op : {"Shape", "Size", "BroadcastGradientArgs"}) {
    INFO(op << " survived compilation of a static-shape step");
    CHECK(pipeline_ops.count(op) == 0);
  }

  const bool gpu_rows = !DefaultKernelRegistry().Ops(kDeviceGpu).empty();
  if (!gpu_rows) {
    WARN("no GPU kernels registered (a build without CUDA): nothing to check");
    return;
  }
  std::vector<std::string> missing;
  int on_gpu = 0;
  for (const Node* node : graph->nodes()) {
    if (CpuByDesign(node->op())) continue;
    absl::StatusOr<const KernelDef*> row = DefaultKernelRegistry().Find(*node, kDeviceGpu);
    if (row.ok()) {
      ++on_gpu;
      continue;
    }
    missing.push_back(absl::StrCat(node->name(), " (", node->op(), "): ", row.status().message()));
  }
  INFO("compute nodes of the training step without a GPU kernel:\n  "
       << absl::StrJoin(missing, "\n  "));
  CHECK(missing.empty());
  CHECK(on_gpu >= 10);
  // The nodes tests/runtime/gpu/gpu_training_test.cc expects on the GPU, counted here where
  // no GPU is needed: two GEMMs forward and three backward (x needs no gradient), one ReluGrad,
  // a BiasAddGrad per layer and the loss.
  int gemms = 0, relu_grads = 0, bias_grads = 0, losses = 0;
  for (const Node* node : graph->nodes()) {
    gemms += node->op() == "MatMul" || node->op() == "_FusedMatMul";
    relu_grads += node->op() == "ReluGrad";
    bias_grads += node->op() == "BiasAddGrad";
    losses += node->op() == "SparseSoftmaxCrossEntropyWithLogits";
  }
  CHECK(gemms == 5);
  CHECK(relu_grads == 1);
  CHECK(bias_grads == 2);
  CHECK(losses == 1);

  // Placed with a GPU present (a stand-in device: placement only asks the registry), Adam's
  // scalar beta-power updates and their beta Consts stay on the CPU with the variables
  // (compiler/placement.h, rules 4 and 5): on the GPU they would make the GPU partition's inputs
  // wait for its own outputs (the updates are ordered after the gradients), which rules out
  // CUDA-graph replay of the step.
  class StandInGpu : public Device {
   public:
    StandInGpu() : Device("/device:GPU:0", kDeviceGpu) {}
    Allocator* allocator() override { return CpuAllocator::Get(); }
    int intra_op_threads() const override { return 1; }
  };
  StandInGpu gpu;
  CpuDevice cpu(1);
  REQUIRE(PlaceNodes(*graph, {&gpu, &cpu}, DefaultKernelRegistry()).ok());
  int beta_updates = 0;
  for (const Node* node : graph->nodes()) {
    const std::string& name = node->name();
    if (name != "train/mul_beta1" && name != "train/mul_beta2" && name != "train/beta1" &&
        name != "train/beta2") {
      continue;
    }
    ++beta_updates;
    INFO(node->DebugName() << " placed on " << node->assigned_device());
    CHECK(node->assigned_device() == "/device:CPU:0");
  }
  CHECK(beta_updates == 4);
  for (const Node* node : graph->nodes()) {
    if (node->op() != "MatMul" && node->op() != "_FusedMatMul" && node->op() != "ReluGrad") {
      continue;
    }
    INFO(node->DebugName() << " placed on " << node->assigned_device());
    CHECK(node->assigned_device() == "/device:GPU:0");
  }

  // So placed, the step's GPU partition can be replayed as one CUDA graph
  // (runtime/gpu_graph_runner.h): no CPU _Send to the GPU waits for a value from it.
  auto replayable = [&]() {
    absl::StatusOr<std::vector<GraphPartition>> parts = PartitionGraph(*graph);
    INFO(parts.status().ToString());
    REQUIRE(parts.ok());
    const Graph* gpu_part = nullptr;
    std::vector<const Graph*> cpu_parts;
    for (const GraphPartition& part : *parts) {
      if (part.device == gpu.name()) {
        gpu_part = part.graph.get();
      } else {
        cpu_parts.push_back(part.graph.get());
      }
    }
    REQUIRE(gpu_part != nullptr);
    return GpuGraphRunner::CheckReplayable(*gpu_part, gpu.name(), cpu_parts);
  };
  absl::Status replay = replayable();
  INFO(replay.ToString());
  CHECK(replay.ok());
  // The check can fail: with the beta-power updates on the GPU (what rule 5 prevents), the
  // CPU's Adam would send the GPU values that wait for the GPU's gradients.
  for (Node* node : graph->nodes()) {
    if (node->name() == "train/mul_beta1" || node->name() == "train/mul_beta2") {
      node->set_assigned_device(gpu.name());
    }
  }
  absl::Status moved = replayable();
  INFO(moved.ToString());
  CHECK(moved.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(moved.message()), Catch::Matchers::Contains("_Recv"));
}

}  // namespace
}  // namespace weir
