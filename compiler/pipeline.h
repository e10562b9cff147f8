// pipeline.h - The compiler's pass pipeline: one explicit, ordered list of passes.
#ifndef WEIR_COMPILER_PIPELINE_H_
#define WEIR_COMPILER_PIPELINE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "compiler/pass.h"
#include "graph/graph.h"

namespace weir {

inline constexpr int kMaxOptLevel = 3;

// The passes for `opt_level` (clamped to 0..kMaxOptLevel), in the order they run:
//   0: prune (correctness only)
//   1: + simplify, constant folding, dead-node elimination
//   2: + layout (NCHW convolutions on the CPU in NHWC), common-subexpression elimination, a
//      second simplification, zero-Pad folding into convolutions and fusion (the default)
//   3: + a second round of folding, CSE and simplification (catches what round one exposed)
std::vector<std::unique_ptr<Pass>> BuildPipeline(int opt_level);

// Every pass by name, with a one-line description, for `weir opt --list-passes`.
struct PassInfo {
  std::string name;
  std::string description;
};
std::vector<PassInfo> ListPasses();
// The named passes in the given order; InvalidArgument naming an unknown pass.
absl::StatusOr<std::vector<std::unique_ptr<Pass>>> BuildPasses(
    const std::vector<std::string>& names);

struct PipelineOptions {
  // Check graph invariants after every pass: on by default in tests and debug builds.
#ifdef NDEBUG
  bool verify = false;
#else
  bool verify = true;
#endif
  // Called after each pass with its name, whether it changed the graph and its wall time.
  std::function<void(const std::string& pass, bool changed, double ms, const Graph& graph)>
      after_pass;
};

// Runs BuildPipeline(context.opt_level) over `graph`. Errors name the pass and the node.
absl::Status RunPipeline(Graph& graph, const PassContext& context,
                         const PipelineOptions& options = {});
// Runs the given passes in order (the same checks and hooks as RunPipeline).
absl::Status RunPasses(const std::vector<std::unique_ptr<Pass>>& passes, Graph& graph,
                       const PassContext& context, const PipelineOptions& options = {});

// Graph invariants every pass must keep: every data input connected exactly once, producer
// and consumer dtypes agree, no cycles outside loops.
absl::Status VerifyGraph(const Graph& graph);

}  // namespace weir

#endif  // WEIR_COMPILER_PIPELINE_H_
