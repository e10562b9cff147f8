// fusion.cc - Batch-norm folding (FusedBatchNorm, or the Mul/Add a folded batch norm leaves),
// then MatMul/Conv + BiasAdd (+ activation) fusion, in one topological sweep each.
#include "compiler/passes/fusion.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/op_traits.h"
#include "compiler/rewrite.h"
#include "graph/attr.h"
#include "graph/types.h"

namespace weir {
namespace {

bool IsActivation(const std::string& op) {
  return op == "Relu" || op == "Relu6" || op == "Tanh" || op == "Sigmoid" || op == "Elu" ||
         op == "LeakyRelu";
}

// The single data user of node:0 when that is the only use of the node at all (no other
// output read, no control users); nullptr otherwise.
Node* SoleUser(const Node* node) {
  if (node->out_edges().size() != 1) return nullptr;
  const Edge* e = node->out_edges()[0];
  if (e->IsControl() || e->src_output != 0) return nullptr;
  return e->dst;
}

class Fuser {
 public:
  Fuser(Graph& graph, const PassContext& context) : graph_(graph), keep_(graph, context) {}

  absl::StatusOr<bool> Run() {
    if (auto s = Sweep(&Fuser::FoldBatchNorm); !s.ok()) return s;
    if (auto s = Sweep(&Fuser::FoldScale); !s.ok()) return s;
    if (auto s = Sweep(&Fuser::FoldShift); !s.ok()) return s;
    if (auto s = Sweep(&Fuser::FuseBias); !s.ok()) return s;
    return changed_;
  }

 private:
  // Calls `step` on every live node in topological order (nodes a step removes are skipped).
  absl::Status Sweep(absl::Status (Fuser::*step)(Node*)) {
    absl::StatusOr<std::vector<Node*>> order = graph_.TopologicalOrder();
    if (!order.ok()) return order.status();
    std::vector<int> ids;
    ids.reserve(order->size());
    for (Node* n : *order) ids.push_back(n->id());
    for (int id : ids) {
      Node* node = graph_.node_by_id(id);
      if (node == nullptr) continue;
      if (auto s = (this->*step)(node); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // An intermediate the rewrite may absorb: pure, not kept, read only by `user`.
  bool Absorbable(const Node* node, const Node* user) const {
    return node != nullptr && !keep_.contains(node) && IsPureOp(*node) && SoleUser(node) == user;
  }

  // Conv(x, Const W) -> FusedBatchNorm*(is_training=false, Const params): fold into W and a
  // BiasAdd named like the batch norm.
  absl::Status FoldBatchNorm(Node* bn) {
    const std::string& op = bn->op();
    if (op != "FusedBatchNorm" && op != "FusedBatchNormV2" && op != "FusedBatchNormV3") {
      return absl::OkStatus();
    }
    bool is_training = true;
    bn->GetAttr("is_training", &is_training).IgnoreError();
    if (is_training || !IsFloat32(*bn) || HasControlInputs(bn)) return absl::OkStatus();
    // Only y (output 0) may be read.
    for (const Edge* e : bn->out_edges()) {
      if (e->IsControl() || e->src_output != 0) return absl::OkStatus();
    }
    Node* conv = InputNode(bn, 0);
    if (conv == nullptr || bn->input_edge(0)->src_output != 0) return absl::OkStatus();
    const bool depthwise = conv->op() == "DepthwiseConv2dNative";
    if (conv->op() != "Conv2D" && !depthwise) return absl::OkStatus();
    if (!IsFloat32(*conv) || !Absorbable(conv, bn)) return absl::OkStatus();
    const std::string data_format = StringAttr(*conv, "data_format", "NHWC");
    if (StringAttr(*bn, "data_format", "NHWC") != data_format) return absl::OkStatus();
    Node* filter_node = InputNode(conv, 1);
    if (filter_node == nullptr || HasControlInputs(filter_node)) return absl::OkStatus();
    std::optional<Tensor> filter = InputConstValue(conv, 1);
    if (!filter || filter->dtype() != DT_FLOAT || filter->rank() != 4) return absl::OkStatus();
    std::optional<Tensor> params[4];  // scale, offset, mean, variance
    for (int i = 0; i < 4; ++i) {
      Node* p = InputNode(bn, i + 1);
      if (p == nullptr || HasControlInputs(p)) return absl::OkStatus();
      params[i] = InputConstValue(bn, i + 1);
      if (!params[i] || params[i]->dtype() != DT_FLOAT || params[i]->rank() != 1) {
        return absl::OkStatus();
      }
    }
    // Output channel o of an HWIO filter is its last index; of a depthwise HWCM filter it is
    // c * M + m, i.e. the flattened last two indices. Either way the filter's innermost
    // `channels` elements run over the output channels in order.
    const int64_t channels = depthwise ? filter->dim(2) * filter->dim(3) : filter->dim(3);
    for (const auto& p : params) {
      if (p->dim(0) != channels) return absl::OkStatus();
    }
    float epsilon = 1e-4f;
    bn->GetAttr("epsilon", &epsilon).IgnoreError();

    std::vector<double> multiplier(channels);
    std::vector<float> bias(channels);
    auto scale = params[0]->flat<float>(), offset = params[1]->flat<float>(),
         mean = params[2]->flat<float>(), variance = params[3]->flat<float>();
    for (int64_t c = 0; c < channels; ++c) {
      multiplier[c] = static_cast<double>(scale[c]) /
                      std::sqrt(static_cast<double>(variance[c]) + static_cast<double>(epsilon));
      bias[c] = static_cast<float>(offset[c] - mean[c] * multiplier[c]);
    }
    Tensor folded(DT_FLOAT, filter->shape());
    auto in = filter->flat<float>();
    auto out = folded.flat<float>();
    for (int64_t i = 0; i < static_cast<int64_t>(in.size()); ++i) {
      out[i] = static_cast<float>(in[i] * multiplier[i % channels]);
    }

    const std::string device = conv->requested_device();
    absl::StatusOr<Node*> w = AddConstNode(
        graph_, UniqueNodeName(graph_, absl::StrCat(conv->name(), "/folded_filter")), folded,
        device);
    if (!w.ok()) return w.status();
    absl::StatusOr<Node*> b = AddConstNode(
        graph_, UniqueNodeName(graph_, absl::StrCat(conv->name(), "/folded_bias")),
        Tensor::FromVector<float>(bias, TensorShape{channels}), device);
    if (!b.ok()) return b.status();
    // conv now reads the folded filter; the old filter goes when nothing else reads it.
    graph_.RemoveEdge(const_cast<Edge*>(conv->input_edge(1)));
    if (auto e = graph_.AddEdge(*w, 0, conv, 1); !e.ok()) return e.status();
    RemoveIfUnused(filter_node);

    // The BiasAdd replaces the batch norm under its name.
    NodeDef def;
    def.set_name(bn->name());
    def.set_op("BiasAdd");
    def.set_device(bn->requested_device());
    (*def.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    (*def.mutable_attr())["data_format"] = MakeAttr(data_format);
    const PartialShape shape = bn->output_shape(0);
    std::vector<Node*> param_nodes;
    for (int i = 1; i <= 4; ++i) param_nodes.push_back(InputNode(bn, i));
    absl::StatusOr<Node*> bias_add = ReplaceNode(bn, def, {{conv, 0}, {*b, 0}}, {});
    if (!bias_add.ok()) return bias_add.status();
    (*bias_add)->set_output_shape(0, shape);
    for (Node* p : param_nodes) RemoveIfUnused(p);
    changed_ = true;
    return absl::OkStatus();
  }

  // A MatMul, Conv2D (NHWC) or DepthwiseConv2dNative (NHWC) whose weights are a float32
  // Const, with what scaling its output channel c means for the weights.
  struct WeightedOp {
    Node* node = nullptr;
    Node* weights_node = nullptr;
    Tensor weights;
    int64_t channels = 0;
    int output_rank = 0;
    // The output channel of weights element i.
    int64_t ChannelOf(int64_t i) const {
      if (node->op() == "MatMul") {
        bool transpose_b = false;
        node->GetAttr("transpose_b", &transpose_b).IgnoreError();
        // [K, N]: channel is the column; transposed [N, K]: the row.
        return transpose_b ? i / weights.dim(1) : i % channels;
      }
      return i % channels;  // HWIO and HWCM: the innermost elements run over the channels
    }
  };

  std::optional<WeightedOp> AsWeightedOp(Node* node, const Node* user) const {
    if (node == nullptr || !IsFloat32(*node) || !Absorbable(node, user)) return std::nullopt;
    WeightedOp w;
    w.node = node;
    const std::string& op = node->op();
    if (op != "MatMul" && op != "Conv2D" && op != "DepthwiseConv2dNative") return std::nullopt;
    if (op != "MatMul" && StringAttr(*node, "data_format", "NHWC") != "NHWC") return std::nullopt;
    w.weights_node = InputNode(node, 1);
    if (w.weights_node == nullptr || HasControlInputs(w.weights_node)) return std::nullopt;
    std::optional<Tensor> value = InputConstValue(node, 1);
    if (!value || value->dtype() != DT_FLOAT) return std::nullopt;
    w.weights = *value;
    if (op == "MatMul") {
      if (w.weights.rank() != 2) return std::nullopt;
      bool transpose_b = false;
      node->GetAttr("transpose_b", &transpose_b).IgnoreError();
      w.channels = transpose_b ? w.weights.dim(0) : w.weights.dim(1);
      w.output_rank = 2;
    } else {
      if (w.weights.rank() != 4) return std::nullopt;
      w.channels = op == "Conv2D" ? w.weights.dim(3) : w.weights.dim(2) * w.weights.dim(3);
      w.output_rank = 4;
    }
    return w;
  }

  // A float32 Const that broadcasts along the last (channel) axis of a rank-`rank` tensor
  // without changing its shape (a scalar, [C], or [1, ..., 1, C]), as `channels` values.
  static std::optional<std::vector<float>> PerChannel(const std::optional<Tensor>& t,
                                                      int64_t channels, int rank) {
    if (!t || t->dtype() != DT_FLOAT || t->rank() > rank) return std::nullopt;
    for (int d = 0; d + 1 < t->rank(); ++d) {
      if (t->dim(d) != 1) return std::nullopt;
    }
    auto v = t->flat<float>();
    if (v.size() == 1) return std::vector<float>(channels, v[0]);
    if (t->rank() == 0 || t->dim(t->rank() - 1) != channels) return std::nullopt;
    return std::vector<float>(v.begin(), v.end());
  }

  // The BiasAdd, NHWC, reading a Const [C] vector, that only `user` reads.
  std::optional<std::vector<float>> BiasOf(Node* bias_add, const Node* user) const {
    if (bias_add == nullptr || bias_add->op() != "BiasAdd" || !IsFloat32(*bias_add) ||
        !Absorbable(bias_add, user) || StringAttr(*bias_add, "data_format", "NHWC") != "NHWC" ||
        bias_add->input_edge(0)->src_output != 0) {
      return std::nullopt;
    }
    Node* b = InputNode(bias_add, 1);
    if (b == nullptr || HasControlInputs(b)) return std::nullopt;
    std::optional<Tensor> value = InputConstValue(bias_add, 1);
    if (!value || value->dtype() != DT_FLOAT || value->rank() != 1) return std::nullopt;
    return std::vector<float>(value->flat<float>().begin(), value->flat<float>().end());
  }

  // Replaces `last` by BiasAdd(op, bias) under last's name, absorbing `absorbed`.
  absl::Status ReplaceWithBiasAdd(Node* last, Node* op, const std::vector<float>& bias,
                                  const std::vector<Node*>& absorbed) {
    absl::StatusOr<Node*> b = AddConstNode(
        graph_, UniqueNodeName(graph_, absl::StrCat(op->name(), "/folded_bias")),
        Tensor::FromVector<float>(bias, TensorShape{static_cast<int64_t>(bias.size())}),
        op->requested_device());
    if (!b.ok()) return b.status();
    std::vector<Node*> old_params;
    for (Node* n : absorbed) {
      if (n->op() == "BiasAdd") old_params.push_back(InputNode(n, 1));
    }
    for (int i = 0; i < last->num_inputs(); ++i) {
      Node* in = InputNode(last, i);
      if (in != op && std::find(absorbed.begin(), absorbed.end(), in) == absorbed.end()) {
        old_params.push_back(in);
      }
    }
    NodeDef def;
    def.set_name(last->name());
    def.set_op("BiasAdd");
    def.set_device(last->requested_device());
    (*def.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    (*def.mutable_attr())["data_format"] = MakeAttr(std::string("NHWC"));
    const PartialShape shape = last->output_shape(0);
    absl::StatusOr<Node*> bias_add = ReplaceNode(last, def, {{op, 0}, {*b, 0}}, absorbed);
    if (!bias_add.ok()) return bias_add.status();
    (*bias_add)->set_output_shape(0, shape);
    for (Node* p : old_params) RemoveIfUnused(p);
    changed_ = true;
    return absl::OkStatus();
  }

  // op(x, Const W) [-> BiasAdd(Const b)] -> Mul(Const s per output channel), as an inference
  // batch norm is left after constant folding (Keras BatchNormalization after Dense): the
  // scale goes into W (and b), and the Mul becomes BiasAdd(op, b * s) under its name.
  absl::Status FoldScale(Node* mul) {
    if (mul->op() != "Mul" || !IsFloat32(*mul)) return absl::OkStatus();
    for (int side = 0; side < 2; ++side) {
      if (mul->input_edge(side)->src_output != 0) continue;
      Node* producer = InputNode(mul, side);
      Node* bias_add = nullptr;
      std::optional<std::vector<float>> bias;
      std::optional<WeightedOp> w;
      if (producer != nullptr && producer->op() == "BiasAdd") {
        bias = BiasOf(producer, mul);
        if (!bias) continue;
        bias_add = producer;
        w = AsWeightedOp(InputNode(producer, 0), producer);
      } else {
        w = AsWeightedOp(producer, mul);
      }
      if (!w) continue;
      std::optional<std::vector<float>> scale =
          PerChannel(InputConstValue(mul, 1 - side), w->channels, w->output_rank);
      if (!scale || (bias && static_cast<int64_t>(bias->size()) != w->channels)) continue;
      if (HasControlInputs(InputNode(mul, 1 - side))) continue;

      Tensor scaled(DT_FLOAT, w->weights.shape());
      auto in = w->weights.flat<float>();
      auto out = scaled.flat<float>();
      for (int64_t i = 0; i < static_cast<int64_t>(in.size()); ++i) {
        out[i] = in[i] * (*scale)[w->ChannelOf(i)];
      }
      std::vector<float> new_bias(w->channels, 0.0f);
      if (bias) {
        for (int64_t c = 0; c < w->channels; ++c) new_bias[c] = (*bias)[c] * (*scale)[c];
      }
      absl::StatusOr<Node*> weights = AddConstNode(
          graph_, UniqueNodeName(graph_, absl::StrCat(w->node->name(), "/folded_weights")),
          scaled, w->node->requested_device());
      if (!weights.ok()) return weights.status();
      graph_.RemoveEdge(const_cast<Edge*>(w->node->input_edge(1)));
      if (auto e = graph_.AddEdge(*weights, 0, w->node, 1); !e.ok()) return e.status();
      RemoveIfUnused(w->weights_node);
      std::vector<Node*> absorbed;
      if (bias_add != nullptr) absorbed.push_back(bias_add);
      return ReplaceWithBiasAdd(mul, w->node, new_bias, absorbed);
    }
    return absl::OkStatus();
  }

  // op(x, Const W) [-> BiasAdd(Const b)] -> Add/AddV2/Sub(Const c per output channel) becomes
  // BiasAdd(op, b +/- c) under the Add's name, ready for FuseBias.
  absl::Status FoldShift(Node* add) {
    const std::string& op = add->op();
    if ((op != "Add" && op != "AddV2" && op != "Sub") || !IsFloat32(*add)) {
      return absl::OkStatus();
    }
    // Sub folds only x - c.
    for (int side = 0; side < (op == "Sub" ? 1 : 2); ++side) {
      if (add->input_edge(side)->src_output != 0) continue;
      Node* producer = InputNode(add, side);
      std::optional<std::vector<float>> bias;
      Node* base = producer;
      if (producer != nullptr && producer->op() == "BiasAdd") {
        bias = BiasOf(producer, add);
        if (!bias) continue;
        base = InputNode(producer, 0);
      }
      std::optional<WeightedOp> w =
          AsWeightedOp(base, producer == base ? static_cast<const Node*>(add) : producer);
      if (!w) continue;
      std::optional<std::vector<float>> shift =
          PerChannel(InputConstValue(add, 1 - side), w->channels, w->output_rank);
      if (!shift || (bias && static_cast<int64_t>(bias->size()) != w->channels)) continue;
      if (HasControlInputs(InputNode(add, 1 - side))) continue;
      std::vector<float> new_bias(w->channels);
      const float sign = op == "Sub" ? -1.0f : 1.0f;
      for (int64_t c = 0; c < w->channels; ++c) {
        new_bias[c] = (bias ? (*bias)[c] : 0.0f) + sign * (*shift)[c];
      }
      std::vector<Node*> absorbed;
      if (producer != base) absorbed.push_back(producer);
      return ReplaceWithBiasAdd(add, w->node, new_bias, absorbed);
    }
    return absl::OkStatus();
  }

  // MatMul/Conv2D/DepthwiseConv2dNative -> BiasAdd [-> activation] into one fused node.
  absl::Status FuseBias(Node* bias_add) {
    if (bias_add->op() != "BiasAdd" || !IsFloat32(*bias_add)) return absl::OkStatus();
    if (bias_add->input_edge(0)->src_output != 0) return absl::OkStatus();
    Node* base = InputNode(bias_add, 0);
    const std::string& base_op = base->op();
    std::string fused_op;
    if (base_op == "MatMul") {
      fused_op = "_FusedMatMul";
    } else if (base_op == "Conv2D") {
      fused_op = "_FusedConv2D";
    } else if (base_op == "DepthwiseConv2dNative") {
      fused_op = "_FusedDepthwiseConv2dNative";
      // TensorFlow's fused depthwise op has no explicit padding.
      if (StringAttr(*base, "padding", "") == "EXPLICIT") return absl::OkStatus();
    } else {
      return absl::OkStatus();
    }
    if (!IsFloat32(*base) || !Absorbable(base, bias_add)) return absl::OkStatus();
    // BiasAdd adds along the channel dimension of its data_format; for the convolutions that
    // must be the convolution's channel dimension (for a 2-D MatMul output both formats name
    // the last dimension).
    if (base_op != "MatMul" && StringAttr(*bias_add, "data_format", "NHWC") !=
                                   StringAttr(*base, "data_format", "NHWC")) {
      return absl::OkStatus();
    }
    Node* last = bias_add;
    std::vector<std::string> fused_ops = {"BiasAdd"};
    float leakyrelu_alpha = 0.2f;
    Node* act = SoleUser(bias_add);
    if (act != nullptr && IsActivation(act->op()) && IsFloat32(*act) &&
        Absorbable(bias_add, act)) {
      fused_ops.push_back(act->op());
      if (act->op() == "LeakyRelu") act->GetAttr("alpha", &leakyrelu_alpha).IgnoreError();
      last = act;
    }

    NodeDef def;
    def.set_name(last->name());
    def.set_op(fused_op);
    def.set_device(last->requested_device());
    auto& attrs = *def.mutable_attr();
    for (const auto& [name, value] : base->attrs()) {
      // Conv2D's use_cudnn_on_gpu is not an attr of the fused depthwise op, and neither is
      // explicit_paddings; keep the attrs the fused op declares.
      if (graph_.registry().Find(fused_op)->FindAttr(name) != nullptr) attrs[name] = value;
    }
    attrs["T"] = MakeAttr(DT_FLOAT);
    attrs["num_args"] = MakeAttr(int64_t{1});
    attrs["fused_ops"] = MakeAttr(fused_ops);
    attrs["epsilon"] = MakeAttr(1e-4f);
    attrs["leakyrelu_alpha"] = MakeAttr(leakyrelu_alpha);
    if (fused_op == "_FusedConv2D") {
      attrs["TArgs"] = MakeAttr(std::vector<DataType>{DT_FLOAT});
      attrs["num_host_args"] = MakeAttr(int64_t{0});
    }
    const PartialShape shape = last->output_shape(0);
    const Edge* x = base->input_edge(0);
    const Edge* w = base->input_edge(1);
    const Edge* b = bias_add->input_edge(1);
    std::vector<std::pair<Node*, int>> inputs = {
        {x->src, x->src_output}, {w->src, w->src_output}, {b->src, b->src_output}};
    std::vector<Node*> absorbed = {base};
    if (last != bias_add) absorbed.push_back(bias_add);
    absl::StatusOr<Node*> fused = ReplaceNode(last, def, inputs, absorbed);
    if (!fused.ok()) return fused.status();
    (*fused)->set_output_shape(0, shape);
    changed_ = true;
    return absl::OkStatus();
  }

  // Removes `last` and the `absorbed` nodes (which feed only each other and `last`) and adds
  // `def` in last's place: it reads `inputs`, inherits every control input of the removed
  // nodes and feeds everything `last` fed (data and control).
  absl::StatusOr<Node*> ReplaceNode(Node* last, const NodeDef& def,
                                    const std::vector<std::pair<Node*, int>>& inputs,
                                    const std::vector<Node*>& absorbed) {
    std::vector<Node*> removed = absorbed;
    removed.push_back(last);
    std::vector<Node*> control_inputs;
    for (Node* n : removed) {
      for (const Edge* e : n->in_edges()) {
        if (e->IsControl()) control_inputs.push_back(e->src);
      }
    }
    struct Use {
      Node* dst;
      int src_output;
      int dst_input;
    };
    std::vector<Use> uses;
    for (const Edge* e : last->out_edges()) uses.push_back({e->dst, e->src_output, e->dst_input});
    for (Node* n : removed) graph_.RemoveNode(n);
    absl::StatusOr<Node*> node = graph_.AddNode(def);
    if (!node.ok()) return node.status();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (auto e = graph_.AddEdge(inputs[i].first, inputs[i].second, *node, static_cast<int>(i));
          !e.ok()) {
        return e.status();
      }
    }
    for (Node* c : control_inputs) graph_.AddControlEdge(c, *node);
    for (const Use& u : uses) {
      if (u.dst_input == kControlSlot) {
        graph_.AddControlEdge(*node, u.dst);
      } else if (auto e = graph_.AddEdge(*node, u.src_output, u.dst, u.dst_input); !e.ok()) {
        return e.status();
      }
    }
    return node;
  }

  void RemoveIfUnused(Node* node) {
    if (node != nullptr && node->out_edges().empty() && !keep_.contains(node) &&
        IsPureOp(*node)) {
      graph_.RemoveNode(node);
    }
  }

  Graph& graph_;
  const KeepSet keep_;
  bool changed_ = false;
};

}  // namespace

absl::StatusOr<bool> FusionPass::Run(Graph& graph, const PassContext& context) {
  return Fuser(graph, context).Run();
}

}  // namespace weir
