// layout.cc - Finds NCHW regions (union-find over the edges that carry NCHW tensors between
// candidate nodes), keeps those with a convolution or pooling, and rewrites them to NHWC with
// Transposes at their boundary.
#include "compiler/passes/layout.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "compiler/op_traits.h"
#include "compiler/placement.h"
#include "compiler/rewrite.h"
#include "graph/attr.h"
#include "graph/types.h"

namespace weir {
namespace {

// NHWC dimension i is NCHW dimension kToNhwc[i] (the perm of the Transpose into a region);
// NCHW dimension a sits at NHWC position kNhwcPosition[a] (the perm of the Transpose out).
constexpr int64_t kToNhwc[4] = {0, 2, 3, 1};
constexpr int64_t kNhwcPosition[4] = {0, 3, 1, 2};

bool IsConvOrPool(const std::string& op) {
  return op == "Conv2D" || op == "DepthwiseConv2dNative" || op == "_FusedConv2D" ||
         op == "_FusedDepthwiseConv2dNative" || op == "MaxPool" || op == "AvgPool";
}

bool IsBatchNorm(const std::string& op) {
  return op == "FusedBatchNorm" || op == "FusedBatchNormV2" || op == "FusedBatchNormV3";
}

bool IsUnaryElementwise(const std::string& op) {
  static const auto* ops = new absl::flat_hash_set<std::string>{
      "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Tanh", "Sigmoid", "Identity", "Neg",
      "Abs", "Square", "Sqrt", "Rsqrt", "Exp", "Log", "Softplus", "Softsign", "Erf", "Floor",
      "Ceil", "Round", "Sign", "Reciprocal", "StopGradient", "Snapshot"};
  return ops->contains(op);
}

bool IsBinaryElementwise(const std::string& op) {
  static const auto* ops = new absl::flat_hash_set<std::string>{
      "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum",
      "SquaredDifference"};
  return ops->contains(op);
}

bool IsReduction(const std::string& op) {
  return op == "Mean" || op == "Sum" || op == "Max" || op == "Min" || op == "Prod";
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

// An int32/int64 tensor of `like`'s dtype and shape holding `values`.
Tensor IntTensorLike(const Tensor& like, const std::vector<int64_t>& values) {
  if (like.dtype() == DT_INT64) return Tensor::FromVector<int64_t>(values, like.shape());
  return Tensor::FromVector<int32_t>(std::vector<int32_t>(values.begin(), values.end()),
                                     like.shape());
}

// Axes normalized to 0..3; nullopt when one is out of range.
std::optional<std::vector<int64_t>> NormalizedAxes(std::vector<int64_t> axes) {
  for (int64_t& a : axes) {
    if (a < 0) a += 4;
    if (a < 0 || a >= 4) return std::nullopt;
  }
  return axes;
}

// A 4-D NCHW tensor of any fixed-size dtype as NHWC.
Tensor TransposeToNhwc(const Tensor& t) {
  const int64_t n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
  Tensor out(t.dtype(), TensorShape{n, h, w, c});
  const size_t size = DataTypeSize(t.dtype());
  const char* in = static_cast<const char*>(t.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t in_n = 0; in_n < n; ++in_n) {
    for (int64_t in_c = 0; in_c < c; ++in_c) {
      for (int64_t in_h = 0; in_h < h; ++in_h) {
        for (int64_t in_w = 0; in_w < w; ++in_w) {
          const int64_t src = ((in_n * c + in_c) * h + in_h) * w + in_w;
          const int64_t dst = ((in_n * h + in_h) * w + in_w) * c + in_c;
          std::memcpy(o + dst * size, in + src * size, size);
        }
      }
    }
  }
  return out;
}

PartialShape ToNhwc(const PartialShape& s) {
  return PartialShape({s.dim(0), s.dim(2), s.dim(3), s.dim(1)});
}

// How a node takes part in an NCHW region.
struct Role {
  bool conv_or_pool = false;       // what makes converting a region worth its transposes
  std::vector<int> layout_inputs;  // input slots carrying a 4-D NCHW tensor
  bool layout_output = false;      // output 0 is a 4-D NCHW tensor
};

class LayoutAssigner {
 public:
  LayoutAssigner(Graph& graph, const PassContext& context) : graph_(graph), keep_(graph, context) {}

  absl::StatusOr<bool> Run() {
    absl::StatusOr<std::vector<Node*>> order = graph_.TopologicalOrder();
    if (!order.ok()) return order.status();
    for (Node* node : *order) {
      if (std::optional<Role> role = Classify(*node)) roles_[node] = *std::move(role);
    }
    if (roles_.empty()) return false;

    // Union-find over the candidates joined by an edge that carries an NCHW tensor.
    std::vector<int> parent(graph_.num_node_ids());
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    for (const auto& [node, role] : roles_) {
      for (int slot : role.layout_inputs) {
        const Edge* e = node->input_edge(slot);
        auto src = roles_.find(e->src);
        if (src != roles_.end() && src->second.layout_output && e->src_output == 0) {
          parent[find(e->src->id())] = find(node->id());
        }
      }
    }
    absl::flat_hash_set<int> profitable;
    for (const auto& [node, role] : roles_) {
      if (role.conv_or_pool) profitable.insert(find(node->id()));
    }
    std::vector<Node*> region;  // every converted node, in topological order
    for (Node* node : *order) {
      if (roles_.contains(node) && profitable.contains(find(node->id()))) region.push_back(node);
    }
    if (region.empty()) return false;

    // A kept node must still produce its NCHW tensor under its name: the NHWC node moves to a
    // new name and the outgoing Transpose takes the old one. (A reduction whose result is not
    // 4-D is the same in both layouts and keeps its name.)
    absl::flat_hash_map<Node*, Role> region_roles;
    for (Node*& node : region) {
      Role role = roles_.at(node);
      if (keep_.contains(node) && role.layout_output) {
        std::string name = node->name();
        absl::StatusOr<Node*> renamed =
            RenameNode(node, UniqueNodeName(graph_, absl::StrCat(name, "/nhwc")));
        if (!renamed.ok()) return renamed.status();
        node = *renamed;
        kept_names_[node] = std::move(name);
      }
      region_roles[node] = std::move(role);
    }
    roles_ = std::move(region_roles);  // from here on: the region's nodes only

    // The NCHW shapes of the region's outputs, before any rewrite.
    absl::flat_hash_map<Node*, PartialShape> nchw_shape;
    for (Node* node : region) {
      if (roles_.at(node).layout_output) nchw_shape[node] = node->output_shape(0);
    }
    for (Node* node : region) {
      if (auto s = ConvertInputs(node); !s.ok()) return s;
    }
    for (Node* node : region) {
      if (!roles_.at(node).layout_output) continue;
      if (auto s = ConvertOutput(node, nchw_shape.at(node)); !s.ok()) return s;
    }
    for (Node* node : region) {
      if (auto s = RewriteNode(node); !s.ok()) return s;
    }
    return true;
  }

 private:
  std::optional<Role> Classify(const Node& node) const {
    if (!IsCpuDevice(node.requested_device()) || !IsCpuDevice(node.assigned_device())) {
      return std::nullopt;
    }
    if (node.num_outputs() < 1 || node.num_inputs() < 1) return std::nullopt;
    for (int i = 0; i < node.num_inputs(); ++i) {
      if (node.input_edge(i) == nullptr) return std::nullopt;
    }
    const std::string& op = node.op();
    auto rank = [&](int i) { return InputShape(node, i).rank(); };
    const bool output4 = node.output_shape(0).rank() == 4;
    Role role;
    role.layout_inputs = {0};
    role.layout_output = true;

    if (IsConvOrPool(op) || op == "BiasAdd" || IsBatchNorm(op)) {
      std::string data_format;
      if (!node.GetAttr("data_format", &data_format).ok() || data_format != "NCHW") {
        return std::nullopt;
      }
      if (rank(0) != 4 || !output4) return std::nullopt;
      if (IsBatchNorm(op)) {
        bool is_training = true;
        node.GetAttr("is_training", &is_training).IgnoreError();
        // A kept batch norm must keep all its outputs under its name: it stays NCHW.
        if (is_training || keep_.contains(&node)) return std::nullopt;
      }
      if (op == "_FusedConv2D" || op == "_FusedDepthwiseConv2dNative") {
        // Only per-channel args (bias, batch-norm parameters); a fused residual Add reads a
        // 4-D tensor.
        for (int i = 2; i < node.num_inputs(); ++i) {
          if (rank(i) != 1) return std::nullopt;
        }
      }
      role.conv_or_pool = IsConvOrPool(op);
      return role;
    }
    if (IsUnaryElementwise(op)) {
      if (node.num_inputs() != 1 || rank(0) != 4 || !output4) return std::nullopt;
      return role;
    }
    if (IsBinaryElementwise(op) || op == "AddN") {
      if (!output4) return std::nullopt;
      role.layout_inputs.clear();
      for (int i = 0; i < node.num_inputs(); ++i) {
        const PartialShape& s = InputShape(node, i);
        if (s.rank() == 4) {
          role.layout_inputs.push_back(i);
        } else if (op == "AddN" || !s.IsFullyDefined() || s.num_elements() != 1) {
          // Broadcasting a lower-rank tensor aligns it with the last (NCHW: W) dimensions.
          return std::nullopt;
        }
      }
      if (role.layout_inputs.empty()) return std::nullopt;
      return role;
    }
    if (op == "Pad" || op == "PadV2" || op == "MirrorPad") {
      std::optional<Tensor> paddings = CleanConstInput(node, 1);
      if (rank(0) != 4 || !output4 || !paddings || paddings->rank() != 2 ||
          paddings->dim(0) != 4 || paddings->dim(1) != 2 || !IntValues(paddings)) {
        return std::nullopt;
      }
      return role;
    }
    if (IsReduction(op)) {
      std::optional<std::vector<int64_t>> axes;
      if (std::optional<std::vector<int64_t>> values = IntValues(CleanConstInput(node, 1))) {
        axes = NormalizedAxes(*values);
      }
      if (rank(0) != 4 || !axes) return std::nullopt;
      bool keep_dims = false;
      node.GetAttr("keep_dims", &keep_dims).IgnoreError();
      if (keep_dims) return output4 ? std::optional<Role>(role) : std::nullopt;
      // Without keep_dims the result has the remaining dimensions in input order, which must
      // be the same order in both layouts (true when C or both H and W are reduced).
      std::vector<int64_t> remaining;
      for (int64_t a = 0; a < 4; ++a) {
        if (std::find(axes->begin(), axes->end(), a) == axes->end()) remaining.push_back(a);
      }
      for (size_t i = 1; i < remaining.size(); ++i) {
        if (kNhwcPosition[remaining[i - 1]] > kNhwcPosition[remaining[i]]) return std::nullopt;
      }
      if (remaining.size() == 4) return std::nullopt;
      role.layout_output = false;
      return role;
    }
    if (op == "ConcatV2") {
      const int n = node.num_inputs() - 1;
      std::optional<std::vector<int64_t>> axis = IntValues(CleanConstInput(node, n));
      if (!output4 || !axis || axis->size() != 1 || !NormalizedAxes(*axis)) return std::nullopt;
      role.layout_inputs.clear();
      for (int i = 0; i < n; ++i) {
        if (rank(i) != 4) return std::nullopt;
        role.layout_inputs.push_back(i);
      }
      return role;
    }
    return std::nullopt;
  }

  // Whether `e` runs between two region nodes and carries an NHWC tensor after the rewrite.
  bool IsRegionEdge(const Edge* e) const {
    if (e->IsControl() || e->src_output != 0) return false;
    auto src = roles_.find(e->src);
    auto dst = roles_.find(e->dst);
    if (src == roles_.end() || dst == roles_.end() || !src->second.layout_output) return false;
    const std::vector<int>& slots = dst->second.layout_inputs;
    return std::find(slots.begin(), slots.end(), e->dst_input) != slots.end();
  }

  // Every NCHW tensor entering the region goes through one Transpose to NHWC, shared by the
  // region's readers; a Const is transposed instead.
  absl::Status ConvertInputs(Node* node) {
    for (int slot : roles_.at(node).layout_inputs) {
      const Edge* e = node->input_edge(slot);
      if (IsRegionEdge(e)) continue;
      Node* src = e->src;
      const int src_output = e->src_output;
      const std::pair<int, int> key = {src->id(), src_output};
      auto it = converted_inputs_.find(key);
      if (it == converted_inputs_.end()) {
        absl::StatusOr<Node*> nhwc = NhwcVersion(src, src_output, node->requested_device());
        if (!nhwc.ok()) return nhwc.status();
        it = converted_inputs_.emplace(key, *nhwc).first;
      }
      graph_.RemoveEdge(const_cast<Edge*>(e));
      if (auto added = graph_.AddEdge(it->second, 0, node, slot); !added.ok()) {
        return added.status();
      }
      RemoveIfUnused(src);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Node*> NhwcVersion(Node* src, int src_output, const std::string& device) {
    const std::string base =
        src_output == 0 ? src->name() : absl::StrCat(src->name(), "_", src_output);
    if (src_output == 0 && !HasControlInputs(src)) {
      std::optional<Tensor> value = ConstValue(src);
      if (value && value->rank() == 4) {
        return AddConstNode(graph_, UniqueNodeName(graph_, absl::StrCat(base, "/nhwc")),
                            TransposeToNhwc(*value), src->requested_device());
      }
    }
    const PartialShape& shape = src->output_shape(src_output);
    return AddTranspose(UniqueNodeName(graph_, absl::StrCat(base, "/to_nhwc")), src, src_output,
                        /*to_nhwc=*/true, device, ToNhwc(shape));
  }

  // One Transpose back to NCHW for every use of the node's output outside the region (and for
  // a kept node, under its original name).
  absl::Status ConvertOutput(Node* node, const PartialShape& nchw_shape) {
    std::vector<Edge*> outside;
    for (Edge* e : node->out_edges()) {
      if (!e->IsControl() && e->src_output == 0 && !IsRegionEdge(e)) outside.push_back(e);
    }
    auto kept = kept_names_.find(node);
    if (outside.empty() && kept == kept_names_.end()) return absl::OkStatus();
    const std::string name = kept != kept_names_.end()
                                 ? kept->second
                                 : UniqueNodeName(graph_, absl::StrCat(node->name(), "/to_nchw"));
    absl::StatusOr<Node*> transpose =
        AddTranspose(name, node, 0, /*to_nhwc=*/false, node->requested_device(), nchw_shape);
    if (!transpose.ok()) return transpose.status();
    for (Edge* e : outside) {
      Node* dst = e->dst;
      const int slot = e->dst_input;
      graph_.RemoveEdge(e);
      if (auto added = graph_.AddEdge(*transpose, 0, dst, slot); !added.ok()) {
        return added.status();
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Node*> AddTranspose(const std::string& name, Node* src, int src_output,
                                     bool to_nhwc, const std::string& device,
                                     const PartialShape& shape) {
    absl::StatusOr<Node*> perm = PermConst(to_nhwc, device);
    if (!perm.ok()) return perm.status();
    NodeDef def;
    def.set_name(name);
    def.set_op("Transpose");
    def.set_device(device);
    (*def.mutable_attr())["T"] = MakeAttr(src->output_type(src_output));
    (*def.mutable_attr())["Tperm"] = MakeAttr(DT_INT32);
    absl::StatusOr<Node*> node = graph_.AddNode(def);
    if (!node.ok()) return node.status();
    if (auto e = graph_.AddEdge(src, src_output, *node, 0); !e.ok()) return e.status();
    if (auto e = graph_.AddEdge(*perm, 0, *node, 1); !e.ok()) return e.status();
    (*node)->set_output_shape(0, shape);
    return node;
  }

  // One perm Const per direction and device.
  absl::StatusOr<Node*> PermConst(bool to_nhwc, const std::string& device) {
    Node*& perm = perms_[{to_nhwc, device}];
    if (perm != nullptr) return perm;
    const std::vector<int32_t> values =
        to_nhwc ? std::vector<int32_t>{0, 2, 3, 1} : std::vector<int32_t>{0, 3, 1, 2};
    absl::StatusOr<Node*> node = AddConstNode(
        graph_, UniqueNodeName(graph_, to_nhwc ? "layout/to_nhwc_perm" : "layout/to_nchw_perm"),
        Tensor::FromVector<int32_t>(values, TensorShape{4}), device);
    if (!node.ok()) return node.status();
    perm = *node;
    return perm;
  }

  // The node's attrs and constant operands in NHWC terms, and its output shape.
  absl::Status RewriteNode(Node* node) {
    AttrMap& attrs = *node->mutable_attrs();
    if (auto it = attrs.find("data_format"); it != attrs.end() && it->second.s() == "NCHW") {
      it->second = MakeAttr("NHWC");
    }
    for (const char* name : {"strides", "ksize", "dilations"}) {
      auto it = attrs.find(name);
      if (it == attrs.end() || it->second.list().i_size() != 4) continue;
      std::vector<int64_t> v(it->second.list().i().begin(), it->second.list().i().end());
      std::vector<int64_t> nhwc(4);
      for (int i = 0; i < 4; ++i) nhwc[i] = v[kToNhwc[i]];
      it->second = MakeAttr(nhwc);
    }
    if (auto it = attrs.find("explicit_paddings");
        it != attrs.end() && it->second.list().i_size() == 8) {
      std::vector<int64_t> v(it->second.list().i().begin(), it->second.list().i().end());
      std::vector<int64_t> nhwc(8);
      for (int i = 0; i < 4; ++i) {
        nhwc[2 * i] = v[2 * kToNhwc[i]];
        nhwc[2 * i + 1] = v[2 * kToNhwc[i] + 1];
      }
      it->second = MakeAttr(nhwc);
    }
    const std::string& op = node->op();
    if (op == "Pad" || op == "PadV2" || op == "MirrorPad") {
      std::optional<Tensor> paddings = CleanConstInput(*node, 1);
      std::vector<int64_t> v = *IntValues(paddings);
      std::vector<int64_t> nhwc(8);
      for (int i = 0; i < 4; ++i) {
        nhwc[2 * i] = v[2 * kToNhwc[i]];
        nhwc[2 * i + 1] = v[2 * kToNhwc[i] + 1];
      }
      if (auto s = ReplaceConstInput(node, 1, IntTensorLike(*paddings, nhwc)); !s.ok()) return s;
    } else if (IsReduction(op) || op == "ConcatV2") {
      const int slot = IsReduction(op) ? 1 : node->num_inputs() - 1;
      std::optional<Tensor> axes = CleanConstInput(*node, slot);
      std::vector<int64_t> v = *NormalizedAxes(*IntValues(axes));
      for (int64_t& a : v) a = kNhwcPosition[a];
      if (auto s = ReplaceConstInput(node, slot, IntTensorLike(*axes, v)); !s.ok()) return s;
    }
    if (roles_.at(node).layout_output && node->output_shape(0).rank() == 4) {
      node->set_output_shape(0, ToNhwc(node->output_shape(0)));
    }
    return absl::OkStatus();
  }

  absl::Status ReplaceConstInput(Node* node, int slot, const Tensor& value) {
    Node* old = InputNode(node, slot);
    absl::StatusOr<Node*> c = AddConstNode(
        graph_, UniqueNodeName(graph_, absl::StrCat(old->name(), "/nhwc")), value,
        old->requested_device());
    if (!c.ok()) return c.status();
    graph_.RemoveEdge(const_cast<Edge*>(node->input_edge(slot)));
    if (auto e = graph_.AddEdge(*c, 0, node, slot); !e.ok()) return e.status();
    RemoveIfUnused(old);
    return absl::OkStatus();
  }

  // `node` under `name`: same op, attrs, device, shapes and edges.
  absl::StatusOr<Node*> RenameNode(Node* node, const std::string& name) {
    NodeDef def;
    def.set_name(name);
    def.set_op(node->op());
    def.set_device(node->requested_device());
    for (const auto& [key, value] : node->attrs()) (*def.mutable_attr())[key] = value;
    struct Link {
      Node* other;
      int src_output;
      int dst_input;
    };
    std::vector<Link> ins, outs;
    for (const Edge* e : node->in_edges()) ins.push_back({e->src, e->src_output, e->dst_input});
    for (const Edge* e : node->out_edges()) outs.push_back({e->dst, e->src_output, e->dst_input});
    const std::string assigned = node->assigned_device();
    const std::vector<PartialShape> shapes = node->output_shapes();
    graph_.RemoveNode(node);
    absl::StatusOr<Node*> renamed = graph_.AddNode(def);
    if (!renamed.ok()) return renamed.status();
    (*renamed)->set_assigned_device(assigned);
    for (size_t i = 0; i < shapes.size(); ++i) (*renamed)->set_output_shape(i, shapes[i]);
    for (const Link& l : ins) {
      if (l.dst_input == kControlSlot) {
        graph_.AddControlEdge(l.other, *renamed);
      } else if (auto e = graph_.AddEdge(l.other, l.src_output, *renamed, l.dst_input); !e.ok()) {
        return e.status();
      }
    }
    for (const Link& l : outs) {
      if (l.dst_input == kControlSlot) {
        graph_.AddControlEdge(*renamed, l.other);
      } else if (auto e = graph_.AddEdge(*renamed, l.src_output, l.other, l.dst_input); !e.ok()) {
        return e.status();
      }
    }
    return renamed;
  }

  void RemoveIfUnused(Node* node) {
    if (node != nullptr && node->out_edges().empty() && !keep_.contains(node) &&
        IsPureOp(*node) && !roles_.contains(node)) {
      graph_.RemoveNode(node);
    }
  }

  Graph& graph_;
  const KeepSet keep_;
  absl::flat_hash_map<Node*, Role> roles_;
  absl::flat_hash_map<Node*, std::string> kept_names_;
  absl::flat_hash_map<std::pair<int, int>, Node*> converted_inputs_;
  absl::flat_hash_map<std::pair<bool, std::string>, Node*> perms_;
};

}  // namespace

absl::StatusOr<bool> LayoutPass::Run(Graph& graph, const PassContext& context) {
  return LayoutAssigner(graph, context).Run();
}

}  // namespace weir
