// graph.cc - The graph IR.
#include "graph/graph.h"

#include <algorithm>
#include <deque>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/types.h"

namespace weir {

const Edge* Node::input_edge(int i) const {
  for (const Edge* e : in_edges_) {
    if (e->dst_input == i) return e;
  }
  return nullptr;
}

std::string Node::DebugName() const { return absl::StrCat("'", name_, "' (", op(), ")"); }

absl::StatusOr<TensorId> ParseTensorName(absl::string_view name) {
  TensorId id;
  if (!name.empty() && name[0] == '^') {
    id.node = std::string(name.substr(1));
    id.index = kControlSlot;
  } else {
    size_t colon = name.rfind(':');
    if (colon == absl::string_view::npos) {
      id.node = std::string(name);
    } else {
      int index;
      if (!absl::SimpleAtoi(name.substr(colon + 1), &index) || index < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor name '", name, "' has a bad output index"));
      }
      id.node = std::string(name.substr(0, colon));
      id.index = index;
    }
  }
  if (id.node.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor name '", name, "' names no node"));
  }
  return id;
}

absl::StatusOr<Node*> Graph::AddNode(const NodeDef& def) {
  if (def.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("a node of op ", def.op(), " has no name"));
  }
  if (by_name_.contains(def.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("duplicate node name '", def.name(), "' (", def.op(), ")"));
  }
  const OpSpec* spec = registry_->Find(def.op());
  if (spec == nullptr) {
    return absl::NotFoundError(absl::StrCat("node '", def.name(), "': unknown op '", def.op(),
                                            "' (not registered in Weir)"));
  }
  auto node = std::make_unique<Node>();
  node->id_ = static_cast<int>(nodes_.size());
  node->name_ = def.name();
  node->spec_ = spec;
  node->requested_device_ = def.device();
  node->attrs_ = def.attr();
  if (auto s = ResolveNode(node.get()); !s.ok()) return s;
  Node* raw = node.get();
  nodes_.push_back(std::move(node));
  by_name_[raw->name_] = raw;
  ++num_live_nodes_;
  return raw;
}

absl::Status Graph::ResolveNode(Node* node) {
  NodeSignature signature;
  absl::Status s = ResolveSignature(*node->spec_, &node->attrs_, &signature);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("node ", node->DebugName(), ": ", s.message()));
  }
  node->input_types_ = std::move(signature.input_types);
  node->output_types_ = std::move(signature.output_types);
  node->output_shapes_.resize(node->output_types_.size());
  return absl::OkStatus();
}

absl::StatusOr<Edge*> Graph::AddEdge(Node* src, int src_output, Node* dst, int dst_input) {
  if (src_output < 0 || src_output >= src->num_outputs()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node ", dst->DebugName(), ": input ", dst_input, " reads output ", src_output, " of ",
        src->DebugName(), ", which has ", src->num_outputs(), " output(s)"));
  }
  if (dst_input < 0 || dst_input >= dst->num_inputs()) {
    return absl::InvalidArgumentError(absl::StrCat("node ", dst->DebugName(), " has ",
                                                   dst->num_inputs(), " input(s), found input ",
                                                   dst_input));
  }
  if (dst->input_edge(dst_input) != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", dst->DebugName(), ": input ", dst_input, " is connected twice"));
  }
  DataType produced = BaseType(src->output_type(src_output));
  DataType expected = BaseType(dst->input_type(dst_input));
  if (produced != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node ", dst->DebugName(), ": input ", dst_input, " expects ", DataTypeString(expected),
        ", found ", DataTypeString(produced), " from ", src->name(),
        src_output == 0 ? "" : absl::StrCat(":", src_output), " (", src->op(), ")"));
  }
  auto edge = std::make_unique<Edge>(Edge{src, src_output, dst, dst_input,
                                          static_cast<int>(edges_.size())});
  Edge* raw = edge.get();
  edges_.push_back(std::move(edge));
  raw->src_pos = static_cast<int>(src->out_edges_.size());
  src->out_edges_.push_back(raw);
  raw->dst_pos = static_cast<int>(dst->in_edges_.size());
  dst->in_edges_.push_back(raw);
  return raw;
}

Edge* Graph::AddControlEdge(Node* src, Node* dst) {
  for (Edge* e : dst->in_edges_) {
    if (e->IsControl() && e->src == src) return e;
  }
  auto edge = std::make_unique<Edge>(
      Edge{src, kControlSlot, dst, kControlSlot, static_cast<int>(edges_.size())});
  Edge* raw = edge.get();
  edges_.push_back(std::move(edge));
  raw->src_pos = static_cast<int>(src->out_edges_.size());
  src->out_edges_.push_back(raw);
  raw->dst_pos = static_cast<int>(dst->in_edges_.size());
  dst->in_edges_.push_back(raw);
  return raw;
}

void Graph::RemoveEdge(Edge* edge) {
  // Swap the last edge into the removed one's slot and fix its recorded position.
  std::vector<Edge*>& out = edge->src->out_edges_;
  Edge* moved = out.back();
  out[edge->src_pos] = moved;
  moved->src_pos = edge->src_pos;
  out.pop_back();
  std::vector<Edge*>& in = edge->dst->in_edges_;
  moved = in.back();
  in[edge->dst_pos] = moved;
  moved->dst_pos = edge->dst_pos;
  in.pop_back();
  edges_[edge->id].reset();
}

void Graph::RemoveNode(Node* node) {
  while (!node->in_edges_.empty()) RemoveEdge(node->in_edges_.back());
  while (!node->out_edges_.empty()) RemoveEdge(node->out_edges_.back());
  by_name_.erase(node->name_);
  --num_live_nodes_;
  nodes_[node->id_].reset();
}

Node* Graph::FindNode(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(num_live_nodes_);
  for (const auto& n : nodes_) {
    if (n != nullptr) out.push_back(n.get());
  }
  return out;
}

absl::StatusOr<std::vector<Node*>> Graph::TopologicalOrder() const {
  // Kahn's algorithm over node ids; ties resolve in id order so the result is deterministic.
  std::vector<int> pending(nodes_.size(), 0);
  auto is_back_edge = [](const Edge* e) { return IsNextIterationOp(e->src->op()); };
  for (const auto& n : nodes_) {
    if (n == nullptr) continue;
    for (const Edge* e : n->in_edges_) {
      if (!is_back_edge(e)) ++pending[n->id_];
    }
  }
  std::deque<Node*> ready;
  for (const auto& n : nodes_) {
    if (n != nullptr && pending[n->id_] == 0) ready.push_back(n.get());
  }
  std::vector<Node*> order;
  order.reserve(num_live_nodes_);
  while (!ready.empty()) {
    Node* n = ready.front();
    ready.pop_front();
    order.push_back(n);
    for (const Edge* e : n->out_edges_) {
      if (is_back_edge(e)) continue;
      if (--pending[e->dst->id_] == 0) ready.push_back(e->dst);
    }
  }
  if (static_cast<int>(order.size()) != num_live_nodes_) {
    // Report the nodes left over: each lies on or after a cycle. Walk back from one to find
    // the cycle itself so the message is short and actionable.
    std::vector<std::string> stuck;
    for (const auto& n : nodes_) {
      if (n != nullptr && pending[n->id_] > 0) stuck.push_back(n->name_);
    }
    if (stuck.size() > 8) {
      stuck.resize(8);
      stuck.push_back("...");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "graph has a cycle through nodes {", absl::StrJoin(stuck, ", "),
        "} (a cycle is only allowed through NextIteration in a while loop)"));
  }
  return order;
}

absl::Status Graph::CheckInputsConnected() const {
  for (const auto& n : nodes_) {
    if (n == nullptr) continue;
    for (int i = 0; i < n->num_inputs(); ++i) {
      if (n->input_edge(i) == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", n->DebugName(), ": input ", i, " is not connected"));
      }
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<Graph> Graph::Clone() const {
  auto copy = std::make_unique<Graph>(registry_);
  copy->library_ = library_;
  copy->versions_ = versions_;
  std::vector<Node*> map(nodes_.size(), nullptr);
  for (const auto& n : nodes_) {
    if (n == nullptr) {
      copy->nodes_.push_back(nullptr);
      continue;
    }
    auto node = std::make_unique<Node>(*n);
    node->in_edges_.clear();
    node->out_edges_.clear();
    map[n->id_] = node.get();
    copy->by_name_[node->name_] = node.get();
    copy->nodes_.push_back(std::move(node));
    ++copy->num_live_nodes_;
  }
  for (const auto& e : edges_) {
    if (e == nullptr) continue;
    auto edge = std::make_unique<Edge>(Edge{map[e->src->id_], e->src_output, map[e->dst->id_],
                                            e->dst_input, static_cast<int>(copy->edges_.size())});
    edge->src_pos = static_cast<int>(edge->src->out_edges_.size());
    edge->src->out_edges_.push_back(edge.get());
    edge->dst_pos = static_cast<int>(edge->dst->in_edges_.size());
    edge->dst->in_edges_.push_back(edge.get());
    copy->edges_.push_back(std::move(edge));
  }
  return copy;
}

}  // namespace weir
