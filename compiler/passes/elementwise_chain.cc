// elementwise_chain.cc - Chains of elementwise ops on one device become _WeirElementwiseChain.
#include "compiler/passes/elementwise_chain.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/attr.h"

namespace weir {
namespace {

constexpr int kAccOperand = -2;  // the step's operand is the accumulator itself (x op x)
constexpr int kUnary = -1;

struct Step {
  Node* node;
  int acc_input;  // which input of `node` carries the accumulator
};

class ChainFuser {
 public:
  ChainFuser(Graph& graph, const ElementwiseChainOptions& options)
      : graph_(graph), options_(options) {}

  absl::StatusOr<int> Run() {
    for (Node* node : graph_.nodes()) {
      if (int arity = Arity(*node); arity > 0) arity_[node] = arity;
    }
    // acc input of each candidate, and the candidate continuing it (its only consumer).
    absl::flat_hash_map<Node*, Node*> next;
    absl::flat_hash_set<Node*> has_previous;
    for (const auto& [node, arity] : arity_) {
      const int acc = AccInput(node, arity);
      if (acc < 0) continue;
      acc_input_[node] = acc;
    }
    for (const auto& [node, acc] : acc_input_) {
      Node* previous = node->input_edge(acc)->src;
      if (!acc_input_.contains(previous) || !OnlyConsumerIs(previous, node)) continue;
      next[previous] = node;
      has_previous.insert(node);
    }
    // Walk each chain from its first node, in graph order so the result is deterministic.
    std::vector<std::vector<Step>> chains;
    for (Node* node : graph_.nodes()) {
      if (!acc_input_.contains(node) || has_previous.contains(node)) continue;
      std::vector<Step> chain;
      for (Node* n = node; n != nullptr;) {
        chain.push_back({n, acc_input_.at(n)});
        auto it = next.find(n);
        n = it == next.end() ? nullptr : it->second;
      }
      chains.push_back(std::move(chain));
    }
    int made = 0;
    for (const std::vector<Step>& chain : chains) {
      absl::StatusOr<int> fused = FuseChain(chain);
      if (!fused.ok()) return fused.status();
      made += *fused;
    }
    return made;
  }

 private:
  int Arity(const Node& node) const {
    if (node.assigned_device() != options_.device || node.num_outputs() != 1) return 0;
    if (!node.output_shape(0).IsFullyDefined()) return 0;
    for (const Edge* e : node.in_edges()) {
      if (e->IsControl()) return 0;
    }
    for (const Edge* e : node.out_edges()) {
      if (e->IsControl()) return 0;
    }
    const int arity = options_.arity ? options_.arity(node) : 0;
    if (arity != 1 && arity != 2) return 0;
    if (node.num_inputs() != arity) return 0;
    return arity;
  }

  const PartialShape& InputShape(const Node* node, int i) const {
    const Edge* e = node->input_edge(i);
    return e->src->output_shape(e->src_output);
  }

  // The accumulator's input of a candidate, or -1 when the node cannot be a step.
  int AccInput(Node* node, int arity) const {
    const PartialShape& out = node->output_shape(0);
    for (int i = 0; i < arity; ++i) {
      if (node->input_edge(i) == nullptr) return -1;
    }
    if (arity == 1) return InputShape(node, 0) == out ? 0 : -1;
    // Prefer the input coming from another candidate (the chain continues through it).
    int acc = -1;
    for (int i = 0; i < 2 && acc < 0; ++i) {
      const Node* src = node->input_edge(i)->src;
      if (arity_.contains(const_cast<Node*>(src)) && InputShape(node, i) == out) acc = i;
    }
    for (int i = 0; i < 2 && acc < 0; ++i) {
      if (InputShape(node, i) == out) acc = i;
    }
    if (acc < 0) return -1;
    const PartialShape& other = InputShape(node, 1 - acc);
    if (!other.IsFullyDefined()) return -1;
    if (other != out && other.num_elements() != 1) return -1;
    return acc;
  }

  static bool OnlyConsumerIs(const Node* producer, const Node* consumer) {
    if (producer->out_edges().empty()) return false;
    for (const Edge* e : producer->out_edges()) {
      if (e->dst != consumer) return false;
    }
    return true;
  }

  // Fuses `chain` (split where it would read more than max_inputs tensors) into nodes of at
  // least min_ops steps; returns how many it made.
  absl::StatusOr<int> FuseChain(const std::vector<Step>& chain) {
    int made = 0;
    size_t begin = 0;
    while (begin < chain.size()) {
      // Grow [begin, end) while the inputs fit.
      std::vector<std::pair<Node*, int>> inputs;
      auto index_of = [&inputs](Node* src, int out) {
        for (size_t k = 0; k < inputs.size(); ++k) {
          if (inputs[k].first == src && inputs[k].second == out) return static_cast<int>(k);
        }
        return -1;
      };
      const Edge* first_acc = chain[begin].node->input_edge(chain[begin].acc_input);
      inputs.emplace_back(first_acc->src, first_acc->src_output);
      size_t end = begin;
      while (end < chain.size()) {
        const Step& step = chain[end];
        if (step.node->num_inputs() == 2) {
          const Edge* other = step.node->input_edge(1 - step.acc_input);
          const bool is_acc = end > begin && other->src == chain[end - 1].node;
          if (!is_acc && index_of(other->src, other->src_output) < 0) {
            if (static_cast<int>(inputs.size()) >= options_.max_inputs) break;
            inputs.emplace_back(other->src, other->src_output);
          }
        }
        ++end;
      }
      const bool fits = end > begin;
      if (!fits) end = begin + 1;  // max_inputs < 2: nothing fits; leave the node
      if (fits && static_cast<int>(end - begin) >= options_.min_ops) {
        if (auto s = Replace(chain, begin, end, inputs); !s.ok()) return s;
        ++made;
      }
      begin = end;
    }
    return made;
  }

  absl::Status Replace(const std::vector<Step>& chain, size_t begin, size_t end,
                       const std::vector<std::pair<Node*, int>>& inputs) {
    auto index_of = [&inputs](Node* src, int out) {
      for (size_t k = 0; k < inputs.size(); ++k) {
        if (inputs[k].first == src && inputs[k].second == out) return static_cast<int64_t>(k);
      }
      return int64_t{-1};
    };
    std::vector<std::string> ops;
    std::vector<int64_t> operands, acc_left;
    for (size_t k = begin; k < end; ++k) {
      const Step& step = chain[k];
      ops.push_back(step.node->op());
      if (step.node->num_inputs() == 1) {
        operands.push_back(kUnary);
        acc_left.push_back(1);
        continue;
      }
      const Edge* other = step.node->input_edge(1 - step.acc_input);
      if (k > begin && other->src == chain[k - 1].node) {
        operands.push_back(kAccOperand);
      } else {
        const int64_t at = index_of(other->src, other->src_output);
        if (at < 0) {
          return absl::InternalError(absl::StrCat("elementwise chain at ",
                                                  step.node->DebugName(), ": operand not listed"));
        }
        operands.push_back(at);
      }
      acc_left.push_back(step.acc_input == 0 ? 1 : 0);
    }
    Node* last = chain[end - 1].node;
    NodeDef def;
    def.set_name(last->name());
    def.set_op("_WeirElementwiseChain");
    def.set_device(last->requested_device());
    auto& attrs = *def.mutable_attr();
    attrs["T"] = MakeAttr(DT_FLOAT);
    attrs["N"] = MakeAttr(static_cast<int64_t>(inputs.size()));
    attrs["ops"] = MakeAttr(ops);
    attrs["operands"] = MakeAttr(operands);
    attrs["acc_left"] = MakeAttr(acc_left);
    const PartialShape shape = last->output_shape(0);
    struct Use {
      Node* dst;
      int dst_input;
    };
    std::vector<Use> uses;
    for (const Edge* e : last->out_edges()) uses.push_back({e->dst, e->dst_input});
    for (size_t k = begin; k < end; ++k) {
      arity_.erase(chain[k].node);
      graph_.RemoveNode(chain[k].node);
    }
    absl::StatusOr<Node*> fused = graph_.AddNode(def);
    if (!fused.ok()) return fused.status();
    (*fused)->set_assigned_device(options_.device);
    for (size_t i = 0; i < inputs.size(); ++i) {
      absl::StatusOr<Edge*> e =
          graph_.AddEdge(inputs[i].first, inputs[i].second, *fused, static_cast<int>(i));
      if (!e.ok()) return e.status();
    }
    for (const Use& u : uses) {
      absl::StatusOr<Edge*> e = graph_.AddEdge(*fused, 0, u.dst, u.dst_input);
      if (!e.ok()) return e.status();
    }
    (*fused)->set_output_shape(0, shape);
    return absl::OkStatus();
  }

  Graph& graph_;
  const ElementwiseChainOptions& options_;
  absl::flat_hash_map<Node*, int> arity_;
  absl::flat_hash_map<Node*, int> acc_input_;
};

}  // namespace

absl::StatusOr<int> FuseElementwiseChains(Graph& graph, const ElementwiseChainOptions& options) {
  return ChainFuser(graph, options).Run();
}

}  // namespace weir
