// memory_plan.h - Static memory planning: buffer lifetimes over a schedule, reuse of dead
// buffers, in-place elementwise ops, and the peak bytes that result.
//
// The plan follows one sequential schedule (the graph's topological order, which is the order
// a single-threaded step runs ready nodes in). For every node output it decides:
//   - external: the buffer is not the step's to place (feeds, Consts the kernel owns, variable
//     reads, resource handles, outputs of control flow);
//   - alias: the output is a view of an input's buffer (Identity, Reshape, ExpandDims, Squeeze,
//     Snapshot, StopGradient, IdentityN), which extends that buffer's lifetime;
//   - in-place: an elementwise op whose input buffer dies at this node, with the same dtype
//     size and bytes, writes its output over that input (the runtime's kernels forward an input
//     buffer no one else holds, see KernelContext::forward_input_or_allocate_output);
//   - planned: a fresh buffer with a lifetime [first step, last step] and an arena offset.
//   - dynamic: a size shape inference could not fix, left to the allocator at run time.
// Offsets come from simulating a best-fit arena (64-byte aligned blocks, adjacent free blocks
// coalesce) in schedule order: outputs are placed before the node's dying inputs are freed.
// The arena's final size is the plan's peak; the lower bound is the most bytes live at once.
#ifndef WEIR_COMPILER_MEMORY_PLAN_H_
#define WEIR_COMPILER_MEMORY_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace weir {

struct PlannedBuffer {
  enum class Kind { kPlanned, kInPlace, kAlias, kExternal, kDynamic };
  std::string node;
  int output = 0;
  Kind kind = Kind::kPlanned;
  int64_t bytes = 0;      // 0 for dynamic and external outputs
  int first_step = 0;     // the producer's position in the schedule
  int last_step = 0;      // the last reader's position (through aliases); end of step if fetched
  int64_t offset = -1;    // arena offset (planned, in-place and alias share their root's)
  // kInPlace and kAlias: the index in MemoryPlan::buffers of the buffer it reuses.
  int reuses = -1;
};

struct MemoryPlan {
  std::vector<std::string> schedule;   // node names in the order planned
  std::vector<PlannedBuffer> buffers;  // every data output of every node, in schedule order
  int64_t arena_bytes = 0;         // the plan's peak: the arena the offsets fit in
  int64_t live_peak_bytes = 0;     // lower bound: most planned bytes live at one step
  int64_t no_reuse_bytes = 0;      // every planned buffer kept for the whole step
  int64_t external_bytes = 0;      // Const outputs of known size (held by their kernels)
  int num_planned = 0;
  int num_in_place = 0;
  int num_alias = 0;
  int num_dynamic = 0;

  // "memory plan: arena 1.2 MiB (peak), lower bound ..., without reuse ..., N buffers,
  // N in place, N aliases, N dynamic".
  std::string Summary() const;
  // Summary, then one line per buffer: "step name:output kind bytes [first,last] @offset".
  std::string DebugString() const;
};

// Plans `graph`'s step. Outputs nothing reads are live until the end of the step when their
// node has no data or control users at all (a graph output), and die at once otherwise (an
// unused extra output such as FusedBatchNorm's batch mean). Fails only on a cyclic graph.
absl::StatusOr<MemoryPlan> PlanMemory(const Graph& graph);

// Whether `op` computes elementwise, so its output may overwrite input `input` when that input
// has the output's shape and dtype.
bool IsInPlaceCandidate(const std::string& op, int input);

}  // namespace weir

#endif  // WEIR_COMPILER_MEMORY_PLAN_H_
