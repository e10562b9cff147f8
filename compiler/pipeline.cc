// pipeline.cc - The ordered pass list, the pass catalogue and the verifier.
#include "compiler/pipeline.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/passes/arithmetic_simplify.h"
#include "compiler/passes/constant_folding.h"
#include "compiler/passes/cse.h"
#include "compiler/passes/dead_node_elimination.h"
#include "compiler/passes/fusion.h"
#include "compiler/passes/layout.h"
#include "compiler/passes/pad_fold.h"
#include "compiler/passes/prune.h"
#include "graph/shape_inference.h"
#include "graph/types.h"

namespace weir {
namespace {

std::unique_ptr<Pass> MakePass(const std::string& name) {
  if (name == "prune") return std::make_unique<PrunePass>();
  if (name == "dce") return std::make_unique<DeadNodeEliminationPass>();
  if (name == "constant-folding") return std::make_unique<ConstantFoldingPass>();
  if (name == "cse") return std::make_unique<CsePass>();
  if (name == "simplify") return std::make_unique<ArithmeticSimplifyPass>();
  if (name == "fusion") return std::make_unique<FusionPass>();
  if (name == "layout") return std::make_unique<LayoutPass>();
  if (name == "pad-fold") return std::make_unique<PadFoldPass>();
  return nullptr;
}

}  // namespace

std::vector<std::unique_ptr<Pass>> BuildPipeline(int opt_level) {
  opt_level = std::clamp(opt_level, 0, kMaxOptLevel);
  std::vector<std::unique_ptr<Pass>> passes;
  // Pruning is needed for correctness at every level (unfed placeholders a fetch does not
  // need must not run) and goes first so later passes only see live nodes.
  passes.push_back(std::make_unique<PrunePass>());
  if (opt_level == 0) return passes;
  // Simplification before folding: it removes Identity/StopGradient chains between Consts and
  // their users, so folding sees constant inputs directly and emits fewer nodes.
  passes.push_back(std::make_unique<ArithmeticSimplifyPass>());
  // Folding after simplification (above) and before CSE: folded subgraphs become Consts, and
  // equal Consts are exactly what CSE merges next.
  passes.push_back(std::make_unique<ConstantFoldingPass>());
  // Layout after folding (filters, paddings and reduction axes must already be Consts to be
  // permuted) and before CSE and the second simplification, which cancel the Transpose pairs it
  // leaves (at NHWC graph inputs turned NCHW, between regions) and merge equal ones; before
  // fusion, whose BiasAdd and batch-norm folding patterns match NHWC convolutions.
  if (opt_level >= 2) passes.push_back(std::make_unique<LayoutPass>());
  const int rounds = opt_level >= 3 ? 2 : 1;
  for (int round = 0; round < rounds && opt_level >= 2; ++round) {
    // CSE after folding (equal folded Consts merge) and before the second simplification,
    // which then sees merged inputs (x*1 where "1" came from two different subgraphs).
    passes.push_back(std::make_unique<CsePass>());
    passes.push_back(std::make_unique<ArithmeticSimplifyPass>());
    // Level 3: simplification can expose new constant subgraphs (Reshape of a Reshape of a
    // Const), so fold again and let the next round's CSE merge the results.
    if (round + 1 < rounds) passes.push_back(std::make_unique<ConstantFoldingPass>());
  }
  // Pad folding after layout (the convolution's data_format and the Pad's paddings are final,
  // and the paddings are Consts after folding) and after the simplification that cancels the
  // Transposes layout may leave between a Pad and its convolution; before fusion, which then
  // sees a plain Conv2D/DepthwiseConv2dNative reading the unpadded input and fuses it as usual.
  if (opt_level >= 2) passes.push_back(std::make_unique<PadFoldPass>());
  // Fusion after folding, CSE and simplification: batch-norm parameters must already be
  // Consts and the Identity/StopGradient links between a MatMul/Conv2D and its BiasAdd and
  // activation gone, or the patterns do not match; and the passes above need not know the
  // _Fused* ops. Before dead-node elimination, which drops what folding the batch norm into the
  // filter orphaned.
  if (opt_level >= 2) passes.push_back(std::make_unique<FusionPass>());
  // Dead-node elimination last: every pass above can orphan nodes (inputs of folded
  // subgraphs, duplicates' producers), and later stages (placement, kernels) should not pay
  // for them.
  passes.push_back(std::make_unique<DeadNodeEliminationPass>());
  return passes;
}

std::vector<PassInfo> ListPasses() {
  return {
      {"prune", "remove nodes the kept nodes (fetches, targets) do not need"},
      {"simplify",
       "arithmetic simplification: x*1, x+0, x-0, x/1, -(-x), Identity/NoOp/StopGradient "
       "removal, Reshape/Transpose chains, no-op Cast/Reshape/Transpose, AddN of one, "
       "Squeeze/ExpandDims pairs"},
      {"constant-folding",
       "evaluate constant subgraphs and statically known Shape/Size/Rank on the CPU kernels"},
      {"cse", "merge nodes with the same op, inputs, attrs and device"},
      {"fusion",
       "fold inference FusedBatchNorm into a preceding Conv2D's constant filter, and a "
       "per-channel Const Mul/Add/Sub (a batch norm after constant folding) into a preceding "
       "MatMul/Conv2D/DepthwiseConv2dNative's weights and bias; fuse "
       "MatMul/Conv2D/DepthwiseConv2dNative + BiasAdd (+ Relu, Relu6, Tanh, Sigmoid, Elu, "
       "LeakyRelu) into _FusedMatMul/_FusedConv2D/_FusedDepthwiseConv2dNative"},
      {"layout",
       "run NCHW convolution/pooling regions on the CPU in NHWC (data_format, window attrs and "
       "constant operands permuted, Transposes at the region boundary; simplify cancels the "
       "pairs that meet)"},
      {"pad-fold",
       "fold a zero Pad/PadV2 (Const paddings, spatial only) into the VALID/EXPLICIT "
       "Conv2D/DepthwiseConv2dNative/_Fused* reading it, as VALID, SAME or EXPLICIT padding"},
      {"dce", "remove pure nodes whose outputs nothing uses; drop redundant control edges"},
  };
}

absl::StatusOr<std::vector<std::unique_ptr<Pass>>> BuildPasses(
    const std::vector<std::string>& names) {
  std::vector<std::unique_ptr<Pass>> passes;
  for (const std::string& name : names) {
    std::unique_ptr<Pass> pass = MakePass(name);
    if (pass == nullptr) {
      std::vector<std::string> known;
      for (const PassInfo& info : ListPasses()) known.push_back(info.name);
      return absl::InvalidArgumentError(absl::StrCat("unknown pass '", name, "', expected one of ",
                                                     absl::StrJoin(known, ", ")));
    }
    passes.push_back(std::move(pass));
  }
  return passes;
}

absl::Status VerifyGraph(const Graph& graph) {
  std::vector<int> seen;
  for (const Node* node : graph.nodes()) {
    seen.assign(node->num_inputs(), 0);
    for (const Edge* e : node->in_edges()) {
      if (e->IsControl()) continue;
      if (e->dst_input < 0 || e->dst_input >= node->num_inputs()) {
        return absl::InternalError(absl::StrCat("node ", node->DebugName(), ": edge into input ",
                                                e->dst_input, " out of range"));
      }
      ++seen[e->dst_input];
      if (BaseType(e->src->output_type(e->src_output)) != BaseType(node->input_type(e->dst_input))) {
        return absl::InternalError(absl::StrCat(
            "node ", node->DebugName(), ": input ", e->dst_input, " expects ",
            DataTypeString(BaseType(node->input_type(e->dst_input))), ", found ",
            DataTypeString(BaseType(e->src->output_type(e->src_output))), " from ",
            e->src->DebugName()));
      }
    }
    for (int i = 0; i < node->num_inputs(); ++i) {
      if (seen[i] != 1) {
        return absl::InternalError(absl::StrCat("node ", node->DebugName(), ": input ", i,
                                                " has ", seen[i], " producers, expected 1"));
      }
    }
  }
  return graph.TopologicalOrder().status();
}

absl::Status RunPasses(const std::vector<std::unique_ptr<Pass>>& passes, Graph& graph,
                       const PassContext& context, const PipelineOptions& options) {
  for (const std::unique_ptr<Pass>& pass : passes) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<bool> changed = pass->Run(graph, context);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
    if (!changed.ok()) {
      return absl::Status(changed.status().code(),
                          absl::StrCat("pass ", pass->name(), ": ", changed.status().message()));
    }
    if (options.verify) {
      if (auto s = VerifyGraph(graph); !s.ok()) {
        return absl::InternalError(
            absl::StrCat("graph invalid after pass ", pass->name(), ": ", s.message()));
      }
    }
    // A rewrite can make shapes downstream of it known (a folded shape tensor feeding a
    // Reshape) or different (a fused node): infer them again so later passes, the memory plan
    // and kernel construction see them.
    if (*changed) {
      if (auto s = InferShapes(graph); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("pass ", pass->name(),
                                                   ": shape inference after the pass: ",
                                                   s.message()));
      }
    }
    if (options.after_pass) options.after_pass(pass->name(), *changed, ms, graph);
  }
  return absl::OkStatus();
}

absl::Status RunPipeline(Graph& graph, const PassContext& context,
                         const PipelineOptions& options) {
  return RunPasses(BuildPipeline(context.opt_level), graph, context, options);
}

}  // namespace weir
