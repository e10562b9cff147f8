// memory_plan.cc - Lifetimes, in-place decisions and a best-fit arena over one schedule.
#include "compiler/memory_plan.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/op_traits.h"
#include "graph/types.h"

namespace weir {
namespace {

constexpr int64_t kAlignment = 64;

int64_t AlignUp(int64_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

// Ops whose output i is a view of input i's buffer (or input 0's for the reshaping ones).
int AliasedInput(const std::string& op, int output) {
  static const absl::flat_hash_set<std::string> kViews = {
      "Identity", "Snapshot", "StopGradient", "PreventGradient", "Reshape",
      "ExpandDims", "Squeeze", "CheckNumerics", "EnsureShape"};
  if (kViews.contains(op)) return output == 0 ? 0 : -1;
  if (op == "IdentityN") return output;
  return -1;
}

// Outputs that belong to something other than the step: values held by kernels or the session,
// handles, and control flow (frames and deadness make their lifetimes dynamic).
bool IsExternal(const Node& node, int output) {
  const std::string& op = node.op();
  const DataType dtype = BaseType(node.output_type(output));
  if (dtype == DT_RESOURCE || dtype == DT_VARIANT || dtype == DT_STRING) return true;
  return op == "Const" || op == "HostConst" || op == "ReadVariableOp" || op == "VarHandleOp" ||
         IsGraphInputOp(node) || IsControlFlowOp(node);
}

std::string FormatBytes(int64_t bytes) {
  if (bytes >= (int64_t{1} << 20)) return absl::StrFormat("%.2f MiB", bytes / 1048576.0);
  if (bytes >= 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrCat(bytes, " B");
}

const char* KindName(PlannedBuffer::Kind kind) {
  switch (kind) {
    case PlannedBuffer::Kind::kPlanned: return "planned";
    case PlannedBuffer::Kind::kInPlace: return "in-place";
    case PlannedBuffer::Kind::kAlias: return "alias";
    case PlannedBuffer::Kind::kExternal: return "external";
    case PlannedBuffer::Kind::kDynamic: return "dynamic";
  }
  return "?";
}

// A first-fit-by-size (best-fit) arena with coalescing free blocks.
class ArenaSimulator {
 public:
  int64_t Allocate(int64_t bytes) {
    bytes = AlignUp(std::max<int64_t>(bytes, 1));
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second >= bytes && (best == free_.end() || it->second < best->second)) best = it;
    }
    if (best != free_.end()) {
      const int64_t offset = best->first;
      const int64_t rest = best->second - bytes;
      free_.erase(best);
      if (rest > 0) free_[offset + bytes] = rest;
      return offset;
    }
    // Grow the arena, starting inside a free block that reaches its end.
    int64_t offset = size_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == size_) {
        offset = last->first;
        free_.erase(last);
      }
    }
    size_ = offset + bytes;
    return offset;
  }

  void Free(int64_t offset, int64_t bytes) {
    bytes = AlignUp(std::max<int64_t>(bytes, 1));
    auto [it, inserted] = free_.emplace(offset, bytes);
    (void)inserted;
    auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }

  int64_t size() const { return size_; }

 private:
  std::map<int64_t, int64_t> free_;  // offset -> bytes
  int64_t size_ = 0;
};

}  // namespace

// The ops whose CPU kernels call KernelContext::forward_input_or_allocate_output: keep this
// list and those kernels in step.
bool IsInPlaceCandidate(const std::string& op, int input) {
  static const absl::flat_hash_set<std::string> kUnary = {
      "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Tanh", "Sigmoid", "Neg", "Abs",
      "Exp", "Log", "Log1p", "Sqrt", "Rsqrt", "Square", "Reciprocal", "Erf", "Softplus",
      "Floor", "Ceil", "Round", "Sign", "Sin", "Cos"};
  static const absl::flat_hash_set<std::string> kBinary = {
      "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference"};
  if (kUnary.contains(op)) return input == 0;
  if (kBinary.contains(op)) return input == 0 || input == 1;
  if (op == "BiasAdd") return input == 0;
  return false;
}

absl::StatusOr<MemoryPlan> PlanMemory(const Graph& graph) {
  absl::StatusOr<std::vector<Node*>> order = graph.TopologicalOrder();
  if (!order.ok()) return order.status();
  MemoryPlan plan;
  const int num_steps = static_cast<int>(order->size());
  std::vector<int> step_of(graph.num_node_ids(), -1);
  std::vector<int> first_buffer(graph.num_node_ids(), -1);
  for (int s = 0; s < num_steps; ++s) {
    const Node* node = (*order)[s];
    step_of[node->id()] = s;
    first_buffer[node->id()] = static_cast<int>(plan.buffers.size());
    plan.schedule.push_back(node->name());
    for (int o = 0; o < node->num_outputs(); ++o) {
      PlannedBuffer b;
      b.node = node->name();
      b.output = o;
      b.first_step = s;
      b.last_step = s;
      const PartialShape& shape = node->output_shape(o);
      const bool known = shape.known_rank() && shape.IsFullyDefined();
      const int64_t bytes =
          known ? shape.num_elements() * DataTypeSize(BaseType(node->output_type(o))) : 0;
      const int aliased = AliasedInput(node->op(), o);
      const Edge* in = aliased >= 0 && aliased < node->num_inputs() ? node->input_edge(aliased)
                                                                     : nullptr;
      if (IsExternal(*node, o)) {
        b.kind = PlannedBuffer::Kind::kExternal;
        if (node->op() == "Const" && known) plan.external_bytes += bytes;
      } else if (in != nullptr && in->src != nullptr) {
        const PlannedBuffer& src = plan.buffers[first_buffer[in->src->id()] + in->src_output];
        // A view of an external or dynamic buffer is as well.
        b.kind = src.kind == PlannedBuffer::Kind::kExternal ||
                         src.kind == PlannedBuffer::Kind::kDynamic
                     ? src.kind
                     : PlannedBuffer::Kind::kAlias;
        b.reuses = first_buffer[in->src->id()] + in->src_output;
        b.bytes = b.kind == PlannedBuffer::Kind::kAlias ? src.bytes : 0;
      } else if (!known) {
        b.kind = PlannedBuffer::Kind::kDynamic;
      } else {
        b.kind = PlannedBuffer::Kind::kPlanned;
        b.bytes = bytes;
      }
      plan.buffers.push_back(std::move(b));
    }
  }

  // Each buffer's own last reader; a graph output (a node with no users) lives to the end.
  for (int s = 0; s < num_steps; ++s) {
    const Node* node = (*order)[s];
    const int base = first_buffer[node->id()];
    if (node->out_edges().empty()) {
      for (int o = 0; o < node->num_outputs(); ++o) plan.buffers[base + o].last_step = num_steps;
      continue;
    }
    for (const Edge* e : node->out_edges()) {
      if (e->IsControl()) continue;
      const int reader = step_of[e->dst->id()];
      PlannedBuffer& b = plan.buffers[base + e->src_output];
      // A loop back edge reads an earlier step; keep the buffer to the end to stay safe.
      b.last_step = std::max(b.last_step, reader < s ? num_steps : reader);
    }
  }
  // A view keeps its source alive: propagate from later views to earlier sources.
  auto root_of = [&](int i) {
    while (plan.buffers[i].reuses >= 0) i = plan.buffers[i].reuses;
    return i;
  };
  for (int i = static_cast<int>(plan.buffers.size()) - 1; i >= 0; --i) {
    const PlannedBuffer& b = plan.buffers[i];
    if (b.reuses >= 0) {
      PlannedBuffer& src = plan.buffers[b.reuses];
      src.last_step = std::max(src.last_step, b.last_step);
    }
  }

  // In place: in schedule order, an elementwise output takes over an input buffer that dies
  // at this node; the buffer then lives as long as the output does.
  for (int s = 0; s < num_steps; ++s) {
    const Node* node = (*order)[s];
    const int base = first_buffer[node->id()];
    for (int o = 0; o < node->num_outputs(); ++o) {
      PlannedBuffer& out = plan.buffers[base + o];
      if (out.kind != PlannedBuffer::Kind::kPlanned) continue;
      for (int j = 0; j < node->num_inputs(); ++j) {
        if (!IsInPlaceCandidate(node->op(), j)) continue;
        const Edge* e = node->input_edge(j);
        if (e == nullptr) continue;
        if (node->input_type(j) != node->output_type(o)) continue;
        const int root = root_of(first_buffer[e->src->id()] + e->src_output);
        PlannedBuffer& in = plan.buffers[root];
        const bool arena = in.kind == PlannedBuffer::Kind::kPlanned ||
                           in.kind == PlannedBuffer::Kind::kInPlace;
        if (!arena || in.bytes != out.bytes || in.last_step != s) continue;
        out.kind = PlannedBuffer::Kind::kInPlace;
        out.reuses = root;
        in.last_step = std::max(in.last_step, out.last_step);
        // Later in-place users of this output must find the root's new lifetime.
        out.last_step = in.last_step;
        break;
      }
    }
  }

  // The arena, in schedule order: place the step's new buffers, then free what died there.
  ArenaSimulator arena;
  std::vector<std::vector<int>> dying(num_steps + 1);
  int64_t live = 0;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    PlannedBuffer& b = plan.buffers[i];
    if (b.kind == PlannedBuffer::Kind::kPlanned) {
      plan.no_reuse_bytes += b.bytes;
      ++plan.num_planned;
    }
    if (b.kind == PlannedBuffer::Kind::kInPlace) ++plan.num_in_place;
    if (b.kind == PlannedBuffer::Kind::kAlias) ++plan.num_alias;
    if (b.kind == PlannedBuffer::Kind::kDynamic) ++plan.num_dynamic;
  }
  size_t next = 0;
  for (int s = 0; s < num_steps; ++s) {
    for (; next < plan.buffers.size() && plan.buffers[next].first_step == s; ++next) {
      PlannedBuffer& b = plan.buffers[next];
      if (b.kind == PlannedBuffer::Kind::kPlanned) {
        b.offset = arena.Allocate(b.bytes);
        live += AlignUp(std::max<int64_t>(b.bytes, 1));
        dying[std::min(b.last_step, num_steps)].push_back(static_cast<int>(next));
      } else if (b.kind == PlannedBuffer::Kind::kInPlace ||
                 b.kind == PlannedBuffer::Kind::kAlias) {
        b.offset = plan.buffers[root_of(static_cast<int>(next))].offset;
      }
    }
    plan.live_peak_bytes = std::max(plan.live_peak_bytes, live);
    for (int i : dying[s]) {
      const PlannedBuffer& b = plan.buffers[i];
      // An in-place successor may have extended the lifetime after it was queued.
      if (b.last_step != s) {
        dying[std::min(b.last_step, num_steps)].push_back(i);
        continue;
      }
      arena.Free(b.offset, b.bytes);
      live -= AlignUp(std::max<int64_t>(b.bytes, 1));
    }
  }
  plan.arena_bytes = arena.size();
  return plan;
}

std::string MemoryPlan::Summary() const {
  return absl::StrCat("memory plan: arena ", FormatBytes(arena_bytes), " (", arena_bytes,
                      " bytes peak), lower bound ", FormatBytes(live_peak_bytes),
                      ", without reuse ", FormatBytes(no_reuse_bytes), "; ", num_planned,
                      " buffers, ", num_in_place, " in place, ", num_alias, " aliases, ",
                      num_dynamic, " dynamic; constants ", FormatBytes(external_bytes));
}

std::string MemoryPlan::DebugString() const {
  std::string text = Summary() + "\n";
  for (const PlannedBuffer& b : buffers) {
    absl::StrAppend(&text, absl::StrFormat("%5d %s:%d %s %d [%d,%d]", b.first_step, b.node,
                                           b.output, KindName(b.kind), b.bytes, b.first_step,
                                           b.last_step));
    if (b.offset >= 0) absl::StrAppend(&text, " @", b.offset);
    if (b.reuses >= 0) {
      absl::StrAppend(&text, " reuses ", buffers[b.reuses].node, ":", buffers[b.reuses].output);
    }
    text += "\n";
  }
  return text;
}

}  // namespace weir
