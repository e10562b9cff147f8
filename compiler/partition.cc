// partition.cc - Per-device graphs joined by _Send/_Recv pairs.
#include "compiler/partition.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "compiler/op_traits.h"
#include "graph/convert.h"
#include "graph/types.h"

namespace weir {
namespace {

// Every device of one process has the same incarnation here; TensorFlow draws a random one
// per device so a restarted worker's stale sends do not match. One process, one number.
constexpr int64_t kDeviceIncarnation = 1;

// "/device:CPU:1" -> "CPU_1", for node names (which may not hold ':').
std::string ShortDeviceName(const std::string& device) {
  std::string s = device;
  if (auto pos = s.rfind("/device:"); pos != std::string::npos) s = s.substr(pos + 8);
  return absl::StrReplaceAll(s, {{":", "_"}, {"/", "_"}});
}

class Partitioner {
 public:
  explicit Partitioner(const Graph& graph) : graph_(graph) {}

  absl::StatusOr<std::vector<GraphPartition>> Run() {
    const std::vector<Node*> nodes = graph_.nodes();
    copies_.assign(graph_.num_node_ids(), nullptr);
    for (const Node* node : nodes) {
      if (node->assigned_device().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", node->DebugName(), " has no assigned device; place the graph first"));
      }
      absl::StatusOr<Graph*> part = PartitionFor(node->assigned_device());
      if (!part.ok()) return part.status();
      NodeDef def = NodeToNodeDef(*node);
      def.clear_input();
      absl::StatusOr<Node*> copy = (*part)->AddNode(def);
      if (!copy.ok()) return copy.status();
      (*copy)->set_assigned_device(node->assigned_device());
      for (int i = 0; i < node->num_outputs(); ++i) {
        (*copy)->set_output_shape(i, node->output_shape(i));
      }
      copies_[node->id()] = *copy;
    }
    if (partitions_.size() > 1) {
      for (const Node* node : nodes) {
        if (IsControlFlowOp(*node)) {
          return absl::UnimplementedError(absl::StrCat(
              "node ", node->DebugName(), ": control flow in a graph placed on ",
              partitions_.size(), " devices is not supported yet; place the graph on one device"));
        }
      }
    }
    // Edges in the source graph's node order, so the pairs' names and order are stable.
    for (const Node* node : nodes) {
      for (const Edge* e : node->in_edges()) {
        if (auto s = AddEdge(*e); !s.ok()) return s;
      }
    }
    return std::move(partitions_);
  }

 private:
  absl::StatusOr<Graph*> PartitionFor(const std::string& device) {
    for (GraphPartition& p : partitions_) {
      if (p.device == device) return p.graph.get();
    }
    GraphPartition p;
    p.device = device;
    p.graph = std::make_unique<Graph>(&graph_.registry());
    *p.graph->mutable_library() = graph_.library();
    *p.graph->mutable_versions() = graph_.versions();
    partitions_.push_back(std::move(p));
    return partitions_.back().graph.get();
  }

  absl::Status AddEdge(const Edge& e) {
    Node* src = copies_[e.src->id()];
    Node* dst = copies_[e.dst->id()];
    const std::string& src_device = e.src->assigned_device();
    const std::string& dst_device = e.dst->assigned_device();
    Graph* src_graph = *PartitionFor(src_device);
    Graph* dst_graph = *PartitionFor(dst_device);
    if (src_device == dst_device) {
      if (e.IsControl()) {
        src_graph->AddControlEdge(src, dst);
        return absl::OkStatus();
      }
      return src_graph->AddEdge(src, e.src_output, dst, e.dst_input).status();
    }
    absl::StatusOr<Node*> recv = RecvFor(e, src, src_graph, dst_graph);
    if (!recv.ok()) return recv.status();
    if (e.IsControl()) {
      dst_graph->AddControlEdge(*recv, dst);
      return absl::OkStatus();
    }
    return dst_graph->AddEdge(*recv, 0, dst, e.dst_input).status();
  }

  // The _Recv on e's destination device for e's tensor (or, for a control edge, for e.src's
  // completion), adding the pair the first time.
  absl::StatusOr<Node*> RecvFor(const Edge& e, Node* src, Graph* src_graph, Graph* dst_graph) {
    const std::string& src_device = e.src->assigned_device();
    const std::string& dst_device = e.dst->assigned_device();
    const std::string key = absl::StrCat(e.src->name(), ":", e.src_output, "|", dst_device);
    if (auto it = recvs_.find(key); it != recvs_.end()) return it->second;

    const bool control = e.IsControl();
    const std::string suffix = control ? "ctrl" : absl::StrCat(e.src_output);
    const std::string to = ShortDeviceName(dst_device);
    // What travels: the tensor, or a dummy scalar made after src (TensorFlow does the same).
    Node* sent = src;
    int sent_output = e.src_output;
    DataType dtype = control ? DT_FLOAT : BaseType(e.src->output_type(e.src_output));
    PartialShape shape = control ? PartialShape::Scalar() : e.src->output_shape(e.src_output);
    if (control) {
      NodeDef dummy;
      dummy.set_name(absl::StrCat(e.src->name(), "/_ctrl_to_", to));
      dummy.set_op("Const");
      dummy.set_device(src_device);
      TensorProto value;
      value.set_dtype(DT_FLOAT);
      value.mutable_tensor_shape();
      value.add_float_val(0.f);
      (*dummy.mutable_attr())["dtype"] = MakeAttr(DT_FLOAT);
      (*dummy.mutable_attr())["value"] = MakeAttr(value);
      absl::StatusOr<Node*> node = src_graph->AddNode(dummy);
      if (!node.ok()) return node.status();
      (*node)->set_assigned_device(src_device);
      (*node)->set_output_shape(0, shape);
      src_graph->AddControlEdge(src, *node);
      sent = *node;
      sent_output = 0;
    }
    const std::string tensor_name =
        control ? absl::StrCat("^", e.src->name()) : absl::StrCat(e.src->name(), ":", e.src_output);
    auto common = [&](NodeDef& def) {
      (*def.mutable_attr())["tensor_name"] = MakeAttr(tensor_name);
      (*def.mutable_attr())["send_device"] = MakeAttr(src_device);
      (*def.mutable_attr())["send_device_incarnation"] = MakeAttr(kDeviceIncarnation);
      (*def.mutable_attr())["recv_device"] = MakeAttr(dst_device);
      (*def.mutable_attr())["client_terminated"] = MakeAttr(false);
    };
    NodeDef send;
    send.set_name(absl::StrCat(e.src->name(), "/_send_", suffix, "_to_", to));
    send.set_op("_Send");
    send.set_device(src_device);
    (*send.mutable_attr())["T"] = MakeAttr(dtype);
    common(send);
    absl::StatusOr<Node*> send_node = src_graph->AddNode(send);
    if (!send_node.ok()) return send_node.status();
    (*send_node)->set_assigned_device(src_device);
    if (auto s = src_graph->AddEdge(sent, sent_output, *send_node, 0); !s.ok()) return s.status();

    NodeDef recv;
    recv.set_name(absl::StrCat(e.src->name(), "/_recv_", suffix, "_on_", to));
    recv.set_op("_Recv");
    recv.set_device(dst_device);
    (*recv.mutable_attr())["tensor_type"] = MakeAttr(dtype);
    common(recv);
    absl::StatusOr<Node*> recv_node = dst_graph->AddNode(recv);
    if (!recv_node.ok()) return recv_node.status();
    (*recv_node)->set_assigned_device(dst_device);
    (*recv_node)->set_output_shape(0, shape);
    recvs_[key] = *recv_node;
    return *recv_node;
  }

  const Graph& graph_;
  std::vector<GraphPartition> partitions_;
  std::vector<Node*> copies_;  // source node id -> its copy in its partition
  // "src:output|dst_device" (output -1 for control) -> the _Recv already made for it.
  absl::flat_hash_map<std::string, Node*> recvs_;
};

}  // namespace

bool IsMultiDevice(const Graph& graph) {
  const std::string* first = nullptr;
  for (const Node* node : graph.nodes()) {
    if (first == nullptr) {
      first = &node->assigned_device();
    } else if (node->assigned_device() != *first) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::vector<GraphPartition>> PartitionGraph(const Graph& graph) {
  if (!IsMultiDevice(graph)) {
    // One device: the graph as it is (a clone keeps node ids, order and shapes).
    std::vector<GraphPartition> one;
    const std::vector<Node*> nodes = graph.nodes();
    if (!nodes.empty() && nodes[0]->assigned_device().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", nodes[0]->DebugName(), " has no assigned device; place the graph first"));
    }
    one.push_back({nodes.empty() ? std::string() : nodes[0]->assigned_device(), graph.Clone()});
    return one;
  }
  return Partitioner(graph).Run();
}

}  // namespace weir
