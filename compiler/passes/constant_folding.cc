// constant_folding.cc - Evaluate constant subgraphs with the CPU kernels.
#include "compiler/passes/constant_folding.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "compiler/op_traits.h"
#include "compiler/rewrite.h"
#include "graph/types.h"
#include "kernels/registry.h"
#include "runtime/device.h"

namespace weir {
namespace {

// A folded subgraph's control dependencies are carried to its Const; past this many the node
// is left alone rather than growing a fan of control edges.
constexpr size_t kMaxCarriedControlDeps = 8;

bool IsFoldableDtype(DataType t) {
  return !IsRefType(t) && t != DT_STRING && t != DT_RESOURCE && t != DT_VARIANT &&
         t != DT_INVALID;
}

struct Value {
  enum State { kUnvisited, kNotConstant, kConstant };
  State state = kUnvisited;
  bool computed = false;         // produced here (not an original Const)
  std::vector<Tensor> outputs;   // empty until decoded (original Consts decode lazily)
  std::vector<int> control_deps; // node ids whose control edges the Const must keep
};

void MergeDeps(const std::vector<int>& from, std::vector<int>* into) {
  for (int id : from) {
    if (std::find(into->begin(), into->end(), id) == into->end()) into->push_back(id);
  }
}

// Shape, Size or Rank of a statically known input shape, in the node's out_type.
std::optional<Tensor> MaterializeShape(const Node& node) {
  const std::string& op = node.op();
  if (op != "Shape" && op != "Size" && op != "Rank") return std::nullopt;
  const Edge* in = node.input_edge(0);
  if (in == nullptr) return std::nullopt;
  const PartialShape& shape = in->src->output_shape(in->src_output);
  DataType out = node.output_type(0);
  if (out != DT_INT32 && out != DT_INT64) return std::nullopt;
  std::vector<int64_t> values;
  TensorShape result_shape;
  if (op == "Rank") {
    if (!shape.known_rank()) return std::nullopt;
    values = {shape.rank()};
  } else {
    if (!shape.IsFullyDefined()) return std::nullopt;
    if (op == "Size") {
      values = {shape.num_elements()};
    } else {
      values = shape.dims();
      result_shape = TensorShape{static_cast<int64_t>(values.size())};
    }
  }
  if (out == DT_INT32) {
    std::vector<int32_t> narrow;
    for (int64_t v : values) {
      if (v > INT32_MAX) return std::nullopt;  // the kernel would report the overflow
      narrow.push_back(static_cast<int32_t>(v));
    }
    return Tensor::FromVector<int32_t>(narrow, result_shape);
  }
  return Tensor::FromVector<int64_t>(values, result_shape);
}

class Folder {
 public:
  Folder(Graph& graph, const PassContext& context, const ConstantFoldingOptions& options)
      : graph_(graph), keep_(graph, context), options_(options), values_(graph.num_node_ids()) {}

  absl::StatusOr<bool> Run() {
    absl::StatusOr<std::vector<Node*>> order = graph_.TopologicalOrder();
    if (!order.ok()) return order.status();
    // Whether a node may be dead (under a Switch) or inside a loop frame: only then does a
    // materialized shape need a control edge from the node it measured.
    in_flow_.assign(graph_.num_node_ids(), false);
    for (Node* node : *order) {
      bool flow = IsControlFlowOp(*node);
      for (const Edge* e : node->in_edges()) flow = flow || in_flow_[e->src->id()];
      in_flow_[node->id()] = flow;
    }
    std::vector<int> folded;
    for (Node* node : *order) {
      if (Visit(node)) folded.push_back(node->id());
    }
    // Replace the folded nodes that something outside the folded set reads (or that must stay
    // by name); the rest become orphans and go.
    bool changed = false;
    for (int id : folded) {
      absl::StatusOr<bool> replaced = ReplaceIfUsed(graph_.node_by_id(id));
      if (!replaced.ok()) return replaced.status();
      changed |= *replaced;
    }
    changed |= RemoveOrphans(folded);
    return changed;
  }

 private:
  bool IsConstant(const Node* node) const {
    return values_[node->id()].state == Value::kConstant;
  }

  // The node's values, decoding an original Const on first use; nullptr if undecodable.
  const std::vector<Tensor>* Outputs(const Node* node) {
    Value& v = values_[node->id()];
    if (v.outputs.empty()) {
      std::optional<Tensor> t = ConstValue(node);
      if (!t.has_value()) return nullptr;
      v.outputs.push_back(*std::move(t));
    }
    return &v.outputs;
  }

  // Decides whether `node` is constant; computes its outputs if it is and is not a Const.
  // Returns true when the node was computed here.
  bool Visit(Node* node) {
    Value& value = values_[node->id()];
    value.state = Value::kNotConstant;
    std::vector<int> deps;
    for (const Edge* e : node->in_edges()) {
      if (!e->IsControl()) continue;
      const Value& src = values_[e->src->id()];
      // A control edge from a dependency-free constant orders nothing and is never dead.
      if (src.state == Value::kConstant && src.control_deps.empty()) continue;
      MergeDeps({e->src->id()}, &deps);
    }
    if (node->op() == "Const") {
      // Decoded only when a consumer folds: most Consts are weights nobody folds.
      auto it = node->attrs().find("value");
      if (it != node->attrs().end() && it->second.has_tensor() &&
          IsFoldableDtype(it->second.tensor().dtype())) {
        value.state = Value::kConstant;
        value.control_deps = std::move(deps);
      }
      return false;
    }
    if (!IsPureOp(*node) || node->num_outputs() == 0) return false;
    for (DataType t : node->output_types()) {
      if (!IsFoldableDtype(t)) return false;
    }

    if (std::optional<Tensor> shape = MaterializeShape(*node); shape.has_value()) {
      const Edge* in = node->input_edge(0);
      const Value& src = values_[in->src->id()];
      if (src.state == Value::kConstant) {
        MergeDeps(src.control_deps, &deps);
      } else if (in_flow_[in->src->id()]) {
        MergeDeps({in->src->id()}, &deps);  // keeps the input's deadness and frame
      }
      if (deps.size() > kMaxCarriedControlDeps) return false;
      value.state = Value::kConstant;
      value.computed = true;
      value.outputs = {*std::move(shape)};
      value.control_deps = std::move(deps);
      return true;
    }

    if (node->num_inputs() == 0) return false;
    std::vector<Tensor> inputs;
    int64_t input_bytes = 0;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Edge* e = node->input_edge(i);
      if (e == nullptr || !IsConstant(e->src) || !IsFoldableDtype(node->input_type(i))) {
        return false;
      }
      MergeDeps(values_[e->src->id()].control_deps, &deps);
    }
    if (deps.size() > kMaxCarriedControlDeps) return false;
    if (!DefaultKernelRegistry().HasKernel(*node, kDeviceCpu)) return false;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Edge* e = node->input_edge(i);
      const std::vector<Tensor>* outs = Outputs(e->src);
      if (outs == nullptr || e->src_output >= static_cast<int>(outs->size())) return false;
      inputs.push_back((*outs)[e->src_output]);
      input_bytes += static_cast<int64_t>(inputs.back().TotalBytes());
    }

    // An output shape inference already knows to be over the cap is not computed at all: two
    // 4096x4096 Consts into a MatMul would otherwise cost seconds of CPU at compile time only
    // for the 64 MiB result to be thrown away.
    for (int i = 0; i < node->num_outputs(); ++i) {
      const PartialShape& shape = node->output_shape(i);
      if (!shape.IsFullyDefined()) continue;
      const int64_t size = DataTypeSize(BaseType(node->output_type(i)));
      if (size > 0 && shape.num_elements() > options_.max_tensor_bytes / size) return false;
    }
    absl::StatusOr<std::unique_ptr<OpKernel>> kernel =
        CreateKernel(DefaultKernelRegistry(), *node, &device_);
    if (!kernel.ok()) return false;
    std::vector<Tensor> outputs(node->num_outputs());
    KernelContext ctx(&device_, /*frame=*/nullptr, &inputs, &outputs);
    // A kernel error (say, a bad Reshape) is left for the run to report with full context.
    if (!(*kernel)->Compute(&ctx).ok()) return false;
    int64_t output_bytes = 0;
    for (int i = 0; i < node->num_outputs(); ++i) {
      if (!outputs[i].IsInitialized() || outputs[i].dtype() != node->output_type(i)) return false;
      const int64_t bytes = static_cast<int64_t>(outputs[i].TotalBytes());
      if (bytes > options_.max_tensor_bytes) return false;
      output_bytes += bytes;
    }
    const int64_t growth = std::max<int64_t>(0, output_bytes - input_bytes);
    if (growth_bytes_ + growth > options_.max_growth_bytes) return false;
    growth_bytes_ += growth;
    // Own the results: a kernel may forward an input buffer.
    for (Tensor& t : outputs) t = t.DeepCopy();
    value.state = Value::kConstant;
    value.computed = true;
    value.outputs = std::move(outputs);
    value.control_deps = std::move(deps);
    return true;
  }

  bool ReadOutsideFoldedSet(const Node* node) const {
    for (const Edge* e : node->out_edges()) {
      if (!values_[e->dst->id()].computed) return true;
    }
    return false;
  }

  absl::StatusOr<bool> ReplaceIfUsed(Node* node) {
    if (!ReadOutsideFoldedSet(node) && !keep_.contains(node)) return false;
    const Value value = values_[node->id()];
    std::vector<Node*> deps;
    for (int id : value.control_deps) {
      if (Node* dep = Resolve(id); dep != nullptr) deps.push_back(dep);
    }
    const std::string device = node->requested_device();

    if (node->num_outputs() == 1) {
      // Same name, so fetches and anything naming the node still find it.
      struct Use {
        Node* dst;
        int slot;
      };
      std::vector<Use> uses;
      for (const Edge* e : node->out_edges()) uses.push_back({e->dst, e->dst_input});
      const std::string name = node->name();
      const int old_id = node->id();
      graph_.RemoveNode(node);
      absl::StatusOr<Node*> c = AddConstNode(graph_, name, value.outputs[0], device);
      if (!c.ok()) return c.status();
      values_.resize(graph_.num_node_ids());
      values_[(*c)->id()] = Value{Value::kConstant, false, value.outputs, {}};
      replacement_[old_id] = *c;
      created_.push_back((*c)->id());
      for (const Use& use : uses) {
        if (use.slot == kControlSlot) {
          graph_.AddControlEdge(*c, use.dst);
        } else if (auto e = graph_.AddEdge(*c, 0, use.dst, use.slot); !e.ok()) {
          return e.status();
        }
      }
      for (Node* dep : deps) graph_.AddControlEdge(dep, *c);
      return true;
    }

    bool changed = false;
    for (int i = 0; i < node->num_outputs(); ++i) {
      bool used = false;
      for (const Edge* e : node->out_edges()) {
        used |= !e->IsControl() && e->src_output == i && !values_[e->dst->id()].computed;
      }
      if (!used) continue;
      absl::StatusOr<Node*> c = AddConstNode(
          graph_, UniqueNodeName(graph_, absl::StrCat(node->name(), "/folded_", i)),
          value.outputs[i], device);
      if (!c.ok()) return c.status();
      values_.resize(graph_.num_node_ids());
      created_.push_back((*c)->id());
      for (Node* dep : deps) graph_.AddControlEdge(dep, *c);
      // Only users outside the folded set move; folded users are about to disappear.
      std::vector<Edge*> edges;
      for (Edge* e : node->out_edges()) {
        if (!e->IsControl() && e->src_output == i && !values_[e->dst->id()].computed) {
          edges.push_back(e);
        }
      }
      for (Edge* e : edges) {
        Node* dst = e->dst;
        int slot = e->dst_input;
        graph_.RemoveEdge(e);
        if (auto added = graph_.AddEdge(*c, 0, dst, slot); !added.ok()) return added.status();
      }
      changed = true;
    }
    return changed;
  }

  // Folded nodes nothing reads any more (and that need not stay by name) are removed, last
  // first, so producers that become unused in turn go too.
  bool RemoveOrphans(const std::vector<int>& folded) {
    bool changed = false;
    for (auto it = folded.rbegin(); it != folded.rend(); ++it) {
      Node* n = graph_.node_by_id(*it);
      if (n == nullptr || !values_[*it].computed) continue;
      if (n->out_edges().empty() && !keep_.contains(n)) {
        graph_.RemoveNode(n);
        changed = true;
      }
    }
    // A replacement Const read only by folded nodes that are gone now.
    for (int id : created_) {
      Node* n = graph_.node_by_id(id);
      if (n != nullptr && n->out_edges().empty() && !keep_.contains(n)) {
        graph_.RemoveNode(n);
      }
    }
    return changed;
  }

  // The live node for an id recorded before replacements (a replaced node's Const).
  Node* Resolve(int id) const {
    Node* n = graph_.node_by_id(id);
    if (n != nullptr) return n;
    auto it = replacement_.find(id);
    return it == replacement_.end() ? nullptr : it->second;
  }

  Graph& graph_;
  const KeepSet keep_;
  const ConstantFoldingOptions& options_;
  std::vector<Value> values_;
  std::vector<bool> in_flow_;
  absl::flat_hash_map<int, Node*> replacement_;
  std::vector<int> created_;
  CpuDevice device_{1};
  int64_t growth_bytes_ = 0;
};

}  // namespace

absl::StatusOr<bool> ConstantFoldingPass::Run(Graph& graph, const PassContext& context) {
  Folder folder(graph, context, options_);
  return folder.Run();
}

}  // namespace weir
