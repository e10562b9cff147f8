// rewrite.cc - Shared graph-editing steps for passes.
#include "compiler/rewrite.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "compiler/placement.h"
#include "graph/types.h"

namespace weir {

KeepSet::KeepSet(const Graph& graph, const PassContext& context)
    : names_(context.keep_nodes.begin(), context.keep_nodes.end()) {
  for (const std::string& name : context.keep_nodes) {
    const Node* node = graph.FindNode(name);
    if (node == nullptr || node->op() != "_Retval") continue;
    for (const Edge* e : node->in_edges()) {
      if (!e->IsControl()) names_.insert(e->src->name());
    }
  }
}

absl::Status RedirectOutput(Graph& graph, Node* from, int from_output, Node* to, int to_output) {
  std::vector<Edge*> users;
  for (Edge* e : from->out_edges()) {
    if (!e->IsControl() && e->src_output == from_output) users.push_back(e);
  }
  for (Edge* e : users) {
    Node* dst = e->dst;
    int slot = e->dst_input;
    graph.RemoveEdge(e);
    absl::StatusOr<Edge*> added = graph.AddEdge(to, to_output, dst, slot);
    if (!added.ok()) return added.status();
  }
  return absl::OkStatus();
}

absl::Status ReplaceNodeWith(Graph& graph, Node* node, Node* src, int src_output) {
  std::vector<Node*> control_inputs;
  for (const Edge* e : node->in_edges()) {
    if (e->IsControl()) control_inputs.push_back(e->src);
  }
  std::vector<Node*> users;
  std::vector<Node*> control_users;
  for (const Edge* e : node->out_edges()) {
    users.push_back(e->dst);
    if (e->IsControl()) control_users.push_back(e->dst);
  }
  if (auto s = RedirectOutput(graph, node, 0, src, src_output); !s.ok()) return s;
  // Whoever waited for node (data or control) keeps waiting for what node waited for.
  for (Node* user : users) {
    for (Node* c : control_inputs) {
      if (c != user) graph.AddControlEdge(c, user);
    }
  }
  for (Node* user : control_users) {
    if (user != src) graph.AddControlEdge(src, user);
  }
  graph.RemoveNode(node);
  return absl::OkStatus();
}

absl::Status ForwardInput(Graph& graph, Node* node, int input) {
  const Edge* in = node->input_edge(input);
  if (in == nullptr) {
    return absl::InternalError(
        absl::StrCat("node ", node->DebugName(), ": input ", input, " is not connected"));
  }
  return ReplaceNodeWith(graph, node, in->src, in->src_output);
}

absl::StatusOr<Node*> AddConstNode(Graph& graph, const std::string& name, const Tensor& value,
                                   const std::string& device) {
  NodeDef def;
  def.set_name(name);
  def.set_op("Const");
  def.set_device(device);
  (*def.mutable_attr())["dtype"] = MakeAttr(value.dtype());
  TensorProto proto;
  value.ToProto(&proto);
  (*def.mutable_attr())["value"] = MakeAttr(proto);
  absl::StatusOr<Node*> node = graph.AddNode(def);
  if (!node.ok()) return node.status();
  (*node)->set_output_shape(0, PartialShape(value.shape()));
  return node;
}

std::string UniqueNodeName(const Graph& graph, const std::string& base) {
  if (graph.FindNode(base) == nullptr) return base;
  for (int i = 1;; ++i) {
    std::string name = absl::StrCat(base, "_", i);
    if (graph.FindNode(name) == nullptr) return name;
  }
}

std::optional<Tensor> ConstValue(const Node* node) {
  if (node == nullptr || node->op() != "Const") return std::nullopt;
  auto it = node->attrs().find("value");
  if (it == node->attrs().end() || !it->second.has_tensor()) return std::nullopt;
  DataType dtype = it->second.tensor().dtype();
  if (dtype == DT_STRING || dtype == DT_RESOURCE || dtype == DT_VARIANT) return std::nullopt;
  absl::StatusOr<Tensor> t = Tensor::FromProto(it->second.tensor());
  if (!t.ok()) return std::nullopt;
  return *std::move(t);
}

Node* InputNode(const Node* node, int input) {
  const Edge* e = node->input_edge(input);
  return e == nullptr ? nullptr : e->src;
}

std::optional<Tensor> InputConstValue(const Node* node, int input) {
  const Edge* e = node->input_edge(input);
  if (e == nullptr || e->src_output != 0) return std::nullopt;
  return ConstValue(e->src);
}

const PartialShape& InputShape(const Node& node, int i) {
  const Edge* e = node.input_edge(i);
  return e->src->output_shape(e->src_output);
}

std::optional<Tensor> CleanConstInput(const Node& node, int i) {
  Node* src = InputNode(&node, i);
  if (src == nullptr || HasControlInputs(src)) return std::nullopt;
  return InputConstValue(&node, i);
}

bool HasControlInputs(const Node* node) {
  for (const Edge* e : node->in_edges()) {
    if (e->IsControl()) return true;
  }
  return false;
}

namespace {
template <typename T>
bool AllEqualTyped(const Tensor& t, double value) {
  for (T v : t.flat<T>()) {
    if (static_cast<double>(v) != value) return false;
  }
  return true;
}
}  // namespace

bool AllElementsEqual(const Tensor& t, double value) {
  switch (t.dtype()) {
    case DT_FLOAT: return AllEqualTyped<float>(t, value);
    case DT_DOUBLE: return AllEqualTyped<double>(t, value);
    case DT_INT32: return AllEqualTyped<int32_t>(t, value);
    case DT_INT64: return AllEqualTyped<int64_t>(t, value);
    case DT_INT16: return AllEqualTyped<int16_t>(t, value);
    case DT_INT8: return AllEqualTyped<int8_t>(t, value);
    case DT_UINT8: return AllEqualTyped<uint8_t>(t, value);
    default: return false;
  }
}

bool IsFloat32(const Node& node) {
  DataType t;
  return node.GetAttr("T", &t).ok() && t == DT_FLOAT;
}

std::string StringAttr(const Node& node, const char* name, const char* fallback) {
  std::string value = fallback;
  node.GetAttr(name, &value).IgnoreError();
  return value;
}

bool IsCpuDevice(const std::string& device) {
  if (device.empty()) return true;
  absl::StatusOr<DeviceSpec> spec = ParseDeviceName(device);
  return spec.ok() && (spec->type.empty() || absl::AsciiStrToUpper(spec->type) == "CPU");
}

}  // namespace weir
