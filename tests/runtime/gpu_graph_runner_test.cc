// gpu_graph_runner_test.cc - What runtime/gpu_graph_runner decides from the graphs alone, so it
// runs without a GPU: graphs with the session's _Arg/_Retval nodes are placed with a stand-in
// GPU device (placement only asks the kernel registry) and partitioned, then
// GpuGraphRunner::MatchDirectIo says whether the CPU partition only passes feeds and fetches
// through (the session then runs the GPU partition on the calling thread), and how the call
// frame's slots map to the runner's inputs and outputs. CheckReplayable's cases are in
// tests/kernels/gpu/gpu_training_coverage_test.cc (the seed training step).
#include "runtime/gpu_graph_runner.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "compiler/partition.h"
#include "compiler/placement.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "kernels/registry.h"
#include "runtime/device.h"
#include "runtime/rendezvous.h"

namespace weir {
namespace {

class StandInGpu : public Device {
 public:
  StandInGpu() : Device("/device:GPU:0", kDeviceGpu) {}
  Allocator* allocator() override { return CpuAllocator::Get(); }
  int intra_op_threads() const override { return 1; }
};

// x (fed, [2,4]) -> MatMul with a Const [4,3] -> Relu, fetched twice, and x fetched as is.
// With `cpu_tail`, a Neg pinned to the CPU sits between the Relu and the first fetch.
std::string InferenceGraph(bool cpu_tail) {
  std::string text = R"pb(
    node { name: "_arg_x_0" op: "_Arg"
           attr { key: "T" value { type: DT_FLOAT } }
           attr { key: "index" value { i: 0 } }
           attr { key: "_output_shapes" value { list { shape { dim { size: 2 } dim { size: 4 } } } } } }
    node { name: "w" op: "Const"
           attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT
                                                tensor_shape { dim { size: 4 } dim { size: 3 } }
                                                float_val: 0.5 } } } }
    node { name: "mm" op: "MatMul" input: "_arg_x_0" input: "w"
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "relu" op: "Relu" input: "mm" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "_retval_x_1" op: "_Retval" input: "_arg_x_0"
           attr { key: "T" value { type: DT_FLOAT } } attr { key: "index" value { i: 1 } } }
    node { name: "_retval_relu_2" op: "_Retval" input: "relu"
           attr { key: "T" value { type: DT_FLOAT } } attr { key: "index" value { i: 2 } } }
  )pb";
  if (cpu_tail) {
    text += R"pb(
      node { name: "neg" op: "Neg" input: "relu" device: "/device:CPU:0"
             attr { key: "T" value { type: DT_FLOAT } } }
      node { name: "_retval_neg_0" op: "_Retval" input: "neg"
             attr { key: "T" value { type: DT_FLOAT } } attr { key: "index" value { i: 0 } } }
    )pb";
  } else {
    text += R"pb(
      node { name: "_retval_relu_0" op: "_Retval" input: "relu"
             attr { key: "T" value { type: DT_FLOAT } } attr { key: "index" value { i: 0 } } }
    )pb";
  }
  return text;
}

struct Split {
  std::unique_ptr<Graph> gpu;
  std::unique_ptr<Graph> cpu;
  std::vector<std::string> input_keys;   // the GPU partition's _Recv keys
  std::vector<std::string> output_keys;  // its _Send keys
};

Split PlaceAndSplit(const std::string& text) {
  GraphDef def;
  REQUIRE(ParseGraphDef(text, /*text=*/true, &def).ok());
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
  INFO(graph.status().ToString());
  REQUIRE(graph.ok());
  StandInGpu gpu;
  CpuDevice cpu(1);
  absl::Status placed = PlaceNodes(**graph, {&gpu, &cpu}, DefaultKernelRegistry());
  INFO(placed.ToString());
  REQUIRE(placed.ok());
  absl::StatusOr<std::vector<GraphPartition>> parts = PartitionGraph(**graph);
  INFO(parts.status().ToString());
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  Split split;
  for (GraphPartition& part : *parts) {
    (part.device == gpu.name() ? split.gpu : split.cpu) = std::move(part.graph);
  }
  REQUIRE(split.gpu != nullptr);
  REQUIRE(split.cpu != nullptr);
  for (const Node* node : split.gpu->nodes()) {
    if (node->op() != "_Recv" && node->op() != "_Send") continue;
    absl::StatusOr<std::string> key = RendezvousKeyOf(*node);
    REQUIRE(key.ok());
    (node->op() == "_Recv" ? split.input_keys : split.output_keys).push_back(*key);
  }
  return split;
}

bool HasGpuKernels() {
  if (!DefaultKernelRegistry().Ops(kDeviceGpu).empty()) return true;
  WARN("SKIPPED: no GPU kernels in this build (no CUDA toolkit at build time)");
  return false;
}

TEST_CASE("GpuGraphRunner::MatchDirectIo maps a pass-through CPU partition to frame slots") {
  if (!HasGpuKernels()) return;
  Split split = PlaceAndSplit(InferenceGraph(/*cpu_tail=*/false));
  REQUIRE(split.input_keys.size() == 1);   // x
  REQUIRE(split.output_keys.size() == 1);  // relu, fetched twice through one transfer
  absl::StatusOr<GpuGraphRunner::DirectIo> io =
      GpuGraphRunner::MatchDirectIo(*split.cpu, split.input_keys, split.output_keys);
  INFO(io.status().ToString());
  REQUIRE(io.ok());
  CHECK(io->input_args == std::vector<int64_t>{0});
  REQUIRE(io->output_retvals.size() == 1);
  std::vector<int64_t> retvals = io->output_retvals[0];
  std::sort(retvals.begin(), retvals.end());
  CHECK(retvals == std::vector<int64_t>{0, 2});
  REQUIRE(io->arg_retvals.size() == 1);
  CHECK(io->arg_retvals[0] == std::pair<int64_t, int64_t>{0, 1});
}

TEST_CASE("GpuGraphRunner::MatchDirectIo refuses a CPU partition that computes") {
  if (!HasGpuKernels()) return;
  Split split = PlaceAndSplit(InferenceGraph(/*cpu_tail=*/true));
  absl::StatusOr<GpuGraphRunner::DirectIo> io =
      GpuGraphRunner::MatchDirectIo(*split.cpu, split.input_keys, split.output_keys);
  REQUIRE_FALSE(io.ok());
  CHECK(io.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(io.status().message()), Catch::Matchers::Contains("neg"));
  // Keys the partition does not send are refused too.
  Split plain = PlaceAndSplit(InferenceGraph(/*cpu_tail=*/false));
  absl::StatusOr<GpuGraphRunner::DirectIo> wrong =
      GpuGraphRunner::MatchDirectIo(*plain.cpu, {"another key"}, plain.output_keys);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace weir
