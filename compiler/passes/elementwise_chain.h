// elementwise_chain.h - Fuses chains of elementwise ops placed on one device into a single
// _WeirElementwiseChain node (graph/ops/fused_ops.cc), which that device's kernel runs as one
// launch: each element goes through every step in registers, instead of one kernel and one
// intermediate tensor per op. On the GPU a chain of 2,000 dependent Adds becomes one kernel.
//
// Runs after placement (the session calls it for the GPU, never for the CPU), on the nodes
// assigned to `device`. A chain is a path of candidate nodes, each the only consumer of the
// one before it:
//   - a candidate is a node on `device` for which `arity` says 1 (unary) or 2 (binary), with
//     one output of fully defined shape and no control edges in or out;
//   - its accumulator input (a unary op's input; for a binary op the input coming from the
//     previous step, else the first input whose shape is the output's) has the output's shape,
//     so the accumulator never broadcasts, and a binary op's other operand has the output's
//     shape or one element;
//   - a node continues the chain of the node feeding its accumulator when that node has no
//     other consumer.
// A chain of at least `min_ops` steps becomes one node named as its last node (fetches of it
// stay valid), assigned to `device`, reading the chain's first accumulator and its distinct
// operands (at most `max_inputs` inputs: a longer chain is split). The order of operations
// and each op's own arithmetic are unchanged, so results are bit-identical when the kernel
// uses the same per-op functions. Intermediate results that something else reads end a chain
// there and stay.
#ifndef WEIR_COMPILER_PASSES_ELEMENTWISE_CHAIN_H_
#define WEIR_COMPILER_PASSES_ELEMENTWISE_CHAIN_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace weir {

struct ElementwiseChainOptions {
  // Only nodes assigned to this device are fused.
  std::string device;
  // 1 for a unary op the device's chain kernel runs, 2 for a binary one, 0 for anything else
  // (including dtypes the kernel does not take).
  std::function<int(const Node&)> arity;
  // Inputs of one fused node (the first accumulator and the distinct operands).
  int max_inputs = 16;
  // Shorter chains stay as they are.
  int min_ops = 2;
};

// Returns how many _WeirElementwiseChain nodes it made. Errors only for a graph it cannot
// rewrite (they name the node).
absl::StatusOr<int> FuseElementwiseChains(Graph& graph, const ElementwiseChainOptions& options);

}  // namespace weir

#endif  // WEIR_COMPILER_PASSES_ELEMENTWISE_CHAIN_H_
