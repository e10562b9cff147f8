// arithmetic_simplify.cc - One sweep in topological order; chains collapse because each
// node's producers were simplified before it.
#include "compiler/passes/arithmetic_simplify.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "compiler/op_traits.h"
#include "compiler/rewrite.h"
#include "graph/types.h"

namespace weir {
namespace {

// Whether broadcasting x against a tensor of shape c gives x's shape.
bool BroadcastKeepsShape(const PartialShape& x, const TensorShape& c) {
  if (!x.known_rank() || c.rank() > x.rank()) return false;
  for (int j = 1; j <= c.rank(); ++j) {
    const int64_t cd = c.dim(c.rank() - j);
    if (cd != 1 && x.dim(x.rank() - j) != cd) return false;
  }
  return true;
}

std::optional<std::vector<int64_t>> IntValues(const std::optional<Tensor>& t) {
  if (!t.has_value()) return std::nullopt;
  std::vector<int64_t> out;
  if (t->dtype() == DT_INT32) {
    for (int32_t v : t->flat<int32_t>()) out.push_back(v);
  } else if (t->dtype() == DT_INT64) {
    for (int64_t v : t->flat<int64_t>()) out.push_back(v);
  } else {
    return std::nullopt;
  }
  return out;
}

bool IsIdentityPermutation(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

class Simplifier {
 public:
  Simplifier(Graph& graph, const PassContext& context) : graph_(graph), keep_(graph, context) {}

  absl::StatusOr<bool> Run() {
    absl::StatusOr<std::vector<Node*>> order = graph_.TopologicalOrder();
    if (!order.ok()) return order.status();
    removed_.assign(graph_.num_node_ids(), false);
    for (Node* node : *order) {
      if (removed_[node->id()]) continue;
      absl::Status s = Simplify(node);
      if (!s.ok()) return s;
    }
    return changed_;
  }

 private:
  // Users of `node` read src:src_output; node goes.
  absl::Status Replace(Node* node, Node* src, int src_output) {
    removed_[node->id()] = true;
    changed_ = true;
    return ReplaceNodeWith(graph_, node, src, src_output);
  }
  absl::Status Forward(Node* node, int input) {
    const Edge* e = node->input_edge(input);
    return Replace(node, e->src, e->src_output);
  }
  // Rewires node's input `input` to read src:src_output.
  absl::Status Rewire(Node* node, int input, Node* src, int src_output) {
    Node* old = InputNode(node, input);
    graph_.RemoveEdge(const_cast<Edge*>(node->input_edge(input)));
    absl::StatusOr<Edge*> e = graph_.AddEdge(src, src_output, node, input);
    if (!e.ok()) return e.status();
    changed_ = true;
    RemoveIfOrphan(old);
    return absl::OkStatus();
  }
  void RemoveIfOrphan(Node* node) {
    if (node == nullptr || !node->out_edges().empty() || keep_.contains(node) ||
        !IsPureOp(*node)) {
      return;
    }
    std::vector<Node*> inputs;
    for (const Edge* e : node->in_edges()) inputs.push_back(e->src);
    removed_[node->id()] = true;
    graph_.RemoveNode(node);
    for (Node* in : inputs) RemoveIfOrphan(in);
  }

  // The input of a single-input-chain producer when it is `op` with no control inputs and no
  // other reason to stay.
  Node* ChainProducer(const Node& node, const std::string& op) {
    const Edge* e = node.input_edge(0);
    if (e == nullptr || e->src_output != 0 || e->src->op() != op) return nullptr;
    if (HasControlInputs(e->src)) return nullptr;
    return e->src;
  }

  absl::Status Simplify(Node* node) {
    const std::string& op = node->op();
    const bool removable = !keep_.contains(node) && IsPureOp(*node);

    if (op == "NoOp") return removable ? RemoveNoOp(node) : absl::OkStatus();
    if (!removable || node->num_outputs() < 1) return RewriteInPlace(node);

    if (op == "Identity" || op == "StopGradient" || op == "PreventGradient" ||
        op == "Snapshot") {
      return Forward(node, 0);
    }
    if (op == "AddN" && node->num_inputs() == 1) return Forward(node, 0);
    if (op == "Cast" && node->num_inputs() == 1 &&
        node->input_type(0) == node->output_type(0)) {
      return Forward(node, 0);
    }
    if (op == "Neg") {
      if (Node* inner = ChainProducer(*node, "Neg")) {
        const Edge* x = inner->input_edge(0);
        Node* src = x->src;
        int slot = x->src_output;
        absl::Status s = Replace(node, src, slot);
        RemoveIfOrphan(inner);
        return s;
      }
      return absl::OkStatus();
    }
    if (op == "Mul" || op == "Add" || op == "AddV2" || op == "Sub" || op == "RealDiv" ||
        op == "Div") {
      return SimplifyBinary(node);
    }
    if (op == "Reshape") {
      const PartialShape& in = InputShape(*node, 0);
      if (in.IsFullyDefined() && in == node->output_shape(0)) return Forward(node, 0);
      return RewriteInPlace(node);
    }
    if (op == "Transpose") {
      std::optional<std::vector<int64_t>> perm = IntValues(CleanConstInput(*node, 1));
      if (perm.has_value() && IsIdentityPermutation(*perm)) return Forward(node, 0);
      return RewriteInPlace(node);
    }
    if (op == "Squeeze") {
      if (Node* expand = ChainProducer(*node, "ExpandDims")) {
        std::optional<std::vector<int64_t>> axis = IntValues(CleanConstInput(*expand, 1));
        std::vector<int64_t> dims;
        const PartialShape& x = InputShape(*expand, 0);
        if (axis && axis->size() == 1 && node->GetAttr("squeeze_dims", &dims).ok() &&
            dims.size() == 1 && x.known_rank()) {
          const int64_t r = x.rank();
          const int64_t a = (*axis)[0] < 0 ? (*axis)[0] + r + 1 : (*axis)[0];
          const int64_t d = dims[0] < 0 ? dims[0] + r + 1 : dims[0];
          if (a == d) {
            const Edge* src = expand->input_edge(0);
            absl::Status s = Replace(node, src->src, src->src_output);
            RemoveIfOrphan(expand);
            return s;
          }
        }
      }
      return absl::OkStatus();
    }
    if (op == "ExpandDims") {
      if (Node* squeeze = ChainProducer(*node, "Squeeze")) {
        std::optional<std::vector<int64_t>> axis = IntValues(CleanConstInput(*node, 1));
        std::vector<int64_t> dims;
        const PartialShape& x = InputShape(*squeeze, 0);
        if (axis && axis->size() == 1 && squeeze->GetAttr("squeeze_dims", &dims).ok() &&
            dims.size() == 1 && x.known_rank()) {
          const int64_t r = x.rank();
          const int64_t d = dims[0] < 0 ? dims[0] + r : dims[0];
          const int64_t a = (*axis)[0] < 0 ? (*axis)[0] + r : (*axis)[0];
          if (a == d) {
            const Edge* src = squeeze->input_edge(0);
            absl::Status s = Replace(node, src->src, src->src_output);
            RemoveIfOrphan(squeeze);
            return s;
          }
        }
      }
      return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  // Rewrites that keep the node but shorten what it reads (allowed for kept nodes too).
  absl::Status RewriteInPlace(Node* node) {
    const std::string& op = node->op();
    if (op == "Reshape") {
      // Reshape(Reshape(x, s1), s2) == Reshape(x, s2).
      if (Node* inner = ChainProducer(*node, "Reshape")) {
        const Edge* x = inner->input_edge(0);
        return Rewire(node, 0, x->src, x->src_output);
      }
    }
    if (op == "Transpose") {
      Node* inner = ChainProducer(*node, "Transpose");
      if (inner == nullptr) return absl::OkStatus();
      std::optional<std::vector<int64_t>> outer = IntValues(CleanConstInput(*node, 1));
      std::optional<std::vector<int64_t>> first = IntValues(CleanConstInput(*inner, 1));
      if (!outer || !first || outer->size() != first->size()) return absl::OkStatus();
      // y[i] = t[outer[i]] and t[j] = x[first[j]], so y[i] = x[first[outer[i]]].
      std::vector<int64_t> composed(outer->size());
      for (size_t i = 0; i < outer->size(); ++i) {
        if ((*outer)[i] < 0 || (*outer)[i] >= static_cast<int64_t>(first->size())) {
          return absl::OkStatus();  // an invalid permutation is the kernel's error to report
        }
        composed[i] = (*first)[(*outer)[i]];
      }
      const Edge* x = inner->input_edge(0);
      Node* x_node = x->src;
      const int x_slot = x->src_output;
      if (IsIdentityPermutation(composed) && !keep_.contains(node)) {
        absl::Status s = Replace(node, x_node, x_slot);
        RemoveIfOrphan(inner);
        return s;
      }
      const DataType perm_type = node->input_type(1);
      Tensor perm = perm_type == DT_INT64
                        ? Tensor::FromVector<int64_t>(composed, {static_cast<int64_t>(composed.size())})
                        : Tensor::FromVector<int32_t>(
                              std::vector<int32_t>(composed.begin(), composed.end()),
                              {static_cast<int64_t>(composed.size())});
      absl::StatusOr<Node*> perm_node = AddConstNode(
          graph_, UniqueNodeName(graph_, absl::StrCat(node->name(), "/perm")), perm,
          node->requested_device());
      if (!perm_node.ok()) return perm_node.status();
      removed_.resize(graph_.num_node_ids(), false);
      if (auto s = Rewire(node, 1, *perm_node, 0); !s.ok()) return s;
      return Rewire(node, 0, x_node, x_slot);
    }
    return absl::OkStatus();
  }

  absl::Status SimplifyBinary(Node* node) {
    const std::string& op = node->op();
    const bool commutative = op == "Mul" || op == "Add" || op == "AddV2";
    const double neutral = (op == "Mul" || op == "RealDiv" || op == "Div") ? 1.0 : 0.0;
    for (int c = 1; c >= 0; --c) {
      if (c == 0 && !commutative) break;
      const int x = 1 - c;
      std::optional<Tensor> value = CleanConstInput(*node, c);
      if (!value.has_value() || !AllElementsEqual(*value, neutral)) continue;
      if (node->input_type(x) != node->output_type(0)) continue;
      if (!BroadcastKeepsShape(InputShape(*node, x), value->shape())) continue;
      Node* constant = InputNode(node, c);
      absl::Status s = Forward(node, x);
      RemoveIfOrphan(constant);
      return s;
    }
    return absl::OkStatus();
  }

  absl::Status RemoveNoOp(Node* node) {
    std::vector<Node*> ins;
    std::vector<Node*> outs;
    for (const Edge* e : node->in_edges()) ins.push_back(e->src);
    for (const Edge* e : node->out_edges()) outs.push_back(e->dst);
    // Replacing a NoOp joining n inputs to m users takes n*m edges: keep the wide ones.
    if (ins.size() > 1 && outs.size() > 1 && ins.size() * outs.size() > 16) {
      return absl::OkStatus();
    }
    for (Node* in : ins) {
      for (Node* out : outs) graph_.AddControlEdge(in, out);
    }
    removed_[node->id()] = true;
    graph_.RemoveNode(node);
    changed_ = true;
    return absl::OkStatus();
  }

  Graph& graph_;
  const KeepSet keep_;
  std::vector<bool> removed_;
  bool changed_ = false;
};

}  // namespace

absl::StatusOr<bool> ArithmeticSimplifyPass::Run(Graph& graph, const PassContext& context) {
  return Simplifier(graph, context).Run();
}

}  // namespace weir
