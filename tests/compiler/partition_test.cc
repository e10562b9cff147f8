// partition_test.cc - Partitioning a placed graph: the per-device graphs, the _Send/_Recv pairs
// with TensorFlow's attrs, one pair per (tensor, destination device), control edges across
// devices, and a one-device graph left as it is.
#include "compiler/partition.h"

#include <catch2/catch.hpp>

#include "compiler/placement.h"
#include "google/protobuf/util/message_differencer.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "runtime/kernel_registry.h"

namespace weir {
namespace {

constexpr char kCpu0[] = "/device:CPU:0";
constexpr char kCpu1[] = "/device:CPU:1";

std::unique_ptr<Graph> Parse(const std::string& text) {
  GraphDef def;
  REQUIRE(ParseGraphDef(text, /*text=*/true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  return *std::move(graph);
}

// x -> a = Neg(x) -> b = Square(a), c = Exp(a); b, c -> d = AddV2; ^b -> e = Neg(x).
std::unique_ptr<Graph> Diamond() {
  return Parse(R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "shape" value { shape { dim { size: 3 } } } } }
    node { name: "a" op: "Neg" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "b" op: "Square" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "c" op: "Exp" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "d" op: "AddV2" input: "b" input: "c" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "e" op: "Neg" input: "x" input: "^b" attr { key: "T" value { type: DT_FLOAT } } }
  )pb");
}

void Assign(Graph& graph, std::map<std::string, std::string> devices) {
  for (Node* node : graph.nodes()) {
    auto it = devices.find(node->name());
    node->set_assigned_device(it != devices.end() ? it->second : kCpu0);
  }
}

const GraphPartition& PartitionOn(const std::vector<GraphPartition>& parts, const std::string& device) {
  for (const GraphPartition& p : parts) {
    if (p.device == device) return p;
  }
  FAIL("no partition for " << device);
  return parts[0];
}

std::vector<std::string> NodesOf(const Graph& graph, const std::string& op = "") {
  std::vector<std::string> names;
  for (const Node* node : graph.nodes()) {
    if (op.empty() || node->op() == op) names.push_back(node->name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string StrAttr(const Node& node, const char* name) {
  std::string value;
  REQUIRE(node.GetAttr(name, &value).ok());
  return value;
}

TEST_CASE("a one-device graph is one partition equal to the input") {
  auto graph = Diamond();
  Assign(*graph, {});
  auto parts = PartitionGraph(*graph);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 1);
  CHECK((*parts)[0].device == kCpu0);
  const Graph& part = *(*parts)[0].graph;
  CHECK(google::protobuf::util::MessageDifferencer::Equals(GraphToGraphDef(part), GraphToGraphDef(*graph)));
  CHECK(NodesOf(part, "_Send").empty());
  CHECK(part.FindNode("d")->output_shape(0).ToString() == graph->FindNode("d")->output_shape(0).ToString());
  CHECK_FALSE(IsMultiDevice(*graph));
}

TEST_CASE("a crossing data edge becomes one _Send/_Recv pair per destination device") {
  auto graph = Diamond();
  // a on CPU:1 feeds b and c on CPU:0 (one pair, two consumers); x on CPU:0 feeds a on CPU:1.
  Assign(*graph, {{"a", kCpu1}});
  REQUIRE(IsMultiDevice(*graph));
  auto parts = PartitionGraph(*graph);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  const Graph& cpu0 = *PartitionOn(*parts, kCpu0).graph;
  const Graph& cpu1 = *PartitionOn(*parts, kCpu1).graph;
  CHECK(NodesOf(cpu0) == std::vector<std::string>{"a/_recv_0_on_CPU_0", "b", "c", "d", "e",
                                                  "x", "x/_send_0_to_CPU_1"});
  CHECK(NodesOf(cpu1) == std::vector<std::string>{"a", "a/_send_0_to_CPU_0", "x/_recv_0_on_CPU_1"});

  // The pair for a:0, with TensorFlow's attrs.
  const Node* send = cpu1.FindNode("a/_send_0_to_CPU_0");
  const Node* recv = cpu0.FindNode("a/_recv_0_on_CPU_0");
  CHECK(send->op() == "_Send");
  CHECK(recv->op() == "_Recv");
  CHECK(send->input_edge(0)->src == cpu1.FindNode("a"));
  DataType t = DT_INVALID;
  REQUIRE(send->GetAttr("T", &t).ok());
  CHECK(t == DT_FLOAT);
  REQUIRE(recv->GetAttr("tensor_type", &t).ok());
  CHECK(t == DT_FLOAT);
  for (const Node* n : {send, recv}) {
    CHECK(StrAttr(*n, "tensor_name") == "a:0");
    CHECK(StrAttr(*n, "send_device") == kCpu1);
    CHECK(StrAttr(*n, "recv_device") == kCpu0);
    int64_t incarnation = 0;
    REQUIRE(n->GetAttr("send_device_incarnation", &incarnation).ok());
    CHECK(incarnation != 0);
    bool client_terminated = true;
    REQUIRE(n->GetAttr("client_terminated", &client_terminated).ok());
    CHECK_FALSE(client_terminated);
    CHECK(n->assigned_device() == StrAttr(*n, n == send ? "send_device" : "recv_device"));
  }
  // Both consumers read the one _Recv, which carries the producer's shape.
  CHECK(cpu0.FindNode("b")->input_edge(0)->src == recv);
  CHECK(cpu0.FindNode("c")->input_edge(0)->src == recv);
  CHECK(recv->output_shape(0).ToString() == "[3]");
  // Nodes keep their device; every partition is complete.
  CHECK(cpu1.FindNode("a")->assigned_device() == kCpu1);
  CHECK(cpu0.CheckInputsConnected().ok());
  CHECK(cpu1.CheckInputsConnected().ok());
}

TEST_CASE("a control edge across devices travels as a dummy tensor") {
  auto graph = Diamond();
  // ^b (CPU:1) -> e (CPU:0); b also feeds d on CPU:0.
  Assign(*graph, {{"b", kCpu1}});
  auto parts = PartitionGraph(*graph);
  REQUIRE(parts.ok());
  const Graph& cpu0 = *PartitionOn(*parts, kCpu0).graph;
  const Graph& cpu1 = *PartitionOn(*parts, kCpu1).graph;
  CHECK(NodesOf(cpu1, "_Send") == std::vector<std::string>{"b/_send_0_to_CPU_0", "b/_send_ctrl_to_CPU_0"});
  CHECK(NodesOf(cpu0, "_Recv") == std::vector<std::string>{"b/_recv_0_on_CPU_0", "b/_recv_ctrl_on_CPU_0"});
  const Node* dummy = cpu1.FindNode("b/_ctrl_to_CPU_0");
  REQUIRE(dummy != nullptr);
  CHECK(dummy->op() == "Const");
  bool after_b = false;
  for (const Edge* e : dummy->in_edges()) after_b |= e->IsControl() && e->src->name() == "b";
  CHECK(after_b);
  CHECK(cpu1.FindNode("b/_send_ctrl_to_CPU_0")->input_edge(0)->src == dummy);
  const Node* recv = cpu0.FindNode("b/_recv_ctrl_on_CPU_0");
  REQUIRE(recv != nullptr);
  CHECK(StrAttr(*recv, "tensor_name") == "^b");
  bool orders_e = false;
  for (const Edge* e : recv->out_edges()) orders_e |= e->IsControl() && e->dst->name() == "e";
  CHECK(orders_e);
  // a (CPU:0) -> b (CPU:1) crosses the other way.
  CHECK(cpu1.FindNode("a/_recv_0_on_CPU_1") != nullptr);
  CHECK(cpu0.FindNode("a/_send_0_to_CPU_1") != nullptr);
}

TEST_CASE("placement with a fake GPU yields GPU and CPU partitions") {
  class FakeGpu : public Device {
   public:
    FakeGpu() : Device("/device:GPU:0", kDeviceGpu) {}
    Allocator* allocator() override { return CpuAllocator::Get(); }
    int intra_op_threads() const override { return 1; }
  };
  auto no_kernel = [](const KernelConstruction&) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return absl::InternalError("partition tests create no kernels");
  };
  KernelRegistry registry;
  for (const char* op : {"Placeholder", "Neg", "Square", "Exp", "AddV2"}) {
    registry.Register({op, kDeviceCpu, "", {}, no_kernel});
  }
  registry.Register({"Neg", kDeviceGpu, "", {}, no_kernel});
  CpuDevice cpu(1);
  FakeGpu gpu;
  auto graph = Diamond();
  // Asked for explicitly: the diamond's tensors are tiny, and placement keeps a tiny node
  // between CPU nodes on the CPU when nobody asked otherwise.
  graph->FindNode("a")->set_requested_device("/device:GPU:0");
  graph->FindNode("e")->set_requested_device("/device:GPU:0");
  REQUIRE(PlaceNodes(*graph, {&gpu, &cpu}, registry).ok());
  // a and e (Neg) go to the GPU; the rest stays on the CPU.
  auto parts = PartitionGraph(*graph);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  const Graph& g = *PartitionOn(*parts, "/device:GPU:0").graph;
  const Graph& c = *PartitionOn(*parts, kCpu0).graph;
  CHECK(NodesOf(g, "Neg") == std::vector<std::string>{"a", "e"});
  // x goes to the GPU once (a and e share its _Recv); a comes back once for b and c.
  CHECK(NodesOf(g, "_Recv") == std::vector<std::string>{"b/_recv_ctrl_on_GPU_0", "x/_recv_0_on_GPU_0"});
  CHECK(NodesOf(c, "_Send") == std::vector<std::string>{"b/_send_ctrl_to_GPU_0", "x/_send_0_to_GPU_0"});
  CHECK(NodesOf(c, "_Recv") == std::vector<std::string>{"a/_recv_0_on_CPU_0"});
  CHECK(NodesOf(g, "_Send") == std::vector<std::string>{"a/_send_0_to_CPU_0"});
}

TEST_CASE("partitioning refuses unplaced nodes and control flow across devices") {
  auto graph = Diamond();
  auto st = PartitionGraph(*graph);
  CHECK(st.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.status().message()), Catch::Contains("node 'x' (Placeholder) has no assigned device"));

  auto cond = Parse(R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
    node { name: "s" op: "Switch" input: "x" input: "p" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "n" op: "Neg" input: "s:1" attr { key: "T" value { type: DT_FLOAT } } }
  )pb");
  Assign(*cond, {{"n", kCpu1}});
  auto refused = PartitionGraph(*cond);
  CHECK(refused.status().code() == absl::StatusCode::kUnimplemented);
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("node 's' (Switch)"));
  Assign(*cond, {});
  CHECK(PartitionGraph(*cond).ok());
}

}  // namespace
}  // namespace weir
