// placement_test.cc - Placement: explicit and partial device requests, soft placement,
// kernel availability, colocation groups, and the errors that name the node and the device.
#include "compiler/placement.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "runtime/session.h"

namespace weir {
namespace {

// A device of type GPU for placement only: nothing runs on it.
class FakeGpu : public Device {
 public:
  FakeGpu() : Device("/device:GPU:0", kDeviceGpu) {}
  Allocator* allocator() override { return CpuAllocator::Get(); }
  int intra_op_threads() const override { return 1; }
};

absl::StatusOr<std::unique_ptr<OpKernel>> NoKernel(const KernelConstruction&) {
  return absl::InternalError("placement tests create no kernels");
}

// Neg and Square run on the CPU; only Neg also has a GPU kernel.
const KernelRegistry& TestRegistry() {
  static KernelRegistry* registry = [] {
    auto* r = new KernelRegistry;
    for (const char* op : {"Placeholder", "Neg", "Square", "Const", "Switch", "Merge"}) {
      r->Register({op, kDeviceCpu, "", {}, NoKernel});
    }
    r->Register({"Neg", kDeviceGpu, "", {}, NoKernel});
    r->Register({"Const", kDeviceGpu, "", {}, NoKernel});
    return r;
  }();
  return *registry;
}

// x -> y = Neg(x) [y_device] -> z = Square(y) [z_device, colocated with y when asked].
std::unique_ptr<Graph> MakeGraph(const std::string& y_device, const std::string& z_device,
                                 bool colocate = false, const std::string& z_op = "Square") {
  std::string text = R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "y" op: "Neg" input: "x" device: ")pb" + y_device + R"pb("
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "z" op: ")pb" + z_op + R"pb(" input: "y" device: ")pb" + z_device + R"pb("
           attr { key: "T" value { type: DT_FLOAT } })pb";
  if (colocate) text += R"pb( attr { key: "_class" value { list { s: "loc:@y" } } })pb";
  text += " }";
  GraphDef def;
  REQUIRE(ParseGraphDef(text, /*text=*/true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  return *std::move(graph);
}

std::string DeviceOf(const Graph& graph, const std::string& node) {
  return graph.FindNode(node)->assigned_device();
}

PlacementOptions Strict() {
  PlacementOptions o;
  o.allow_soft_placement = false;
  return o;
}

TEST_CASE("without a GPU every node lands on the CPU; strict placement names the missing device") {
  CpuDevice cpu(1);
  std::vector<Device*> devices = {&cpu};
  auto graph = MakeGraph("/device:GPU:0", "");
  REQUIRE(PlaceNodes(*graph, devices, TestRegistry()).ok());
  CHECK(DeviceOf(*graph, "y") == "/device:CPU:0");

  auto strict = MakeGraph("/job:localhost/replica:0/task:0/device:GPU:0", "");
  absl::Status st = PlaceNodes(*strict, devices, TestRegistry(), Strict());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()),
             Catch::Contains("node 'y' (Neg) requests device '/job:localhost/replica:0/task:0/device:GPU:0', which does not exist") &&
                 Catch::Contains("devices: /device:CPU:0"));

  auto cpu1 = MakeGraph("/cpu:1", "");
  st = PlaceNodes(*cpu1, devices, TestRegistry(), Strict());
  CHECK_THAT(std::string(st.message()), Catch::Contains("requests device '/cpu:1', which does not exist"));
  auto cpu0 = MakeGraph("/cpu:0", "/device:CPU:*");
  CHECK(PlaceNodes(*cpu0, devices, TestRegistry(), Strict()).ok());
}

TEST_CASE("requests pick the device; kernel availability decides, soft placement falls back") {
  CpuDevice cpu(1);
  FakeGpu gpu;
  std::vector<Device*> gpu_first = {&gpu, &cpu};

  auto graph = MakeGraph("/device:GPU:*", "");
  REQUIRE(PlaceNodes(*graph, gpu_first, TestRegistry(), Strict()).ok());
  CHECK(DeviceOf(*graph, "y") == "/device:GPU:0");
  // No request: the preferred device when it has the kernel (Neg), else the CPU (Square).
  CHECK(DeviceOf(*graph, "z") == "/device:CPU:0");
  CHECK(DeviceOf(*graph, "x") == "/device:CPU:0");

  auto pinned = MakeGraph("/device:CPU:0", "");
  REQUIRE(PlaceNodes(*pinned, gpu_first, TestRegistry(), Strict()).ok());
  CHECK(DeviceOf(*pinned, "y") == "/device:CPU:0");

  auto no_kernel = MakeGraph("", "/device:GPU:0");
  absl::Status st = PlaceNodes(*no_kernel, gpu_first, TestRegistry(), Strict());
  CHECK_THAT(std::string(st.message()),
             Catch::Contains("node 'z' (Square) requests device '/device:GPU:0', which has no kernel for its op"));
  REQUIRE(PlaceNodes(*no_kernel, gpu_first, TestRegistry()).ok());
  CHECK(DeviceOf(*no_kernel, "z") == "/device:CPU:0");
}

TEST_CASE("colocated nodes share a device; conflicting requests name both nodes") {
  CpuDevice cpu(1);
  FakeGpu gpu;
  std::vector<Device*> gpu_first = {&gpu, &cpu};
  // z (Neg, no request) colocated with y (GPU request): both on the GPU.
  auto together = MakeGraph("/device:GPU:0", "", /*colocate=*/true, "Neg");
  REQUIRE(PlaceNodes(*together, gpu_first, TestRegistry(), Strict()).ok());
  CHECK(DeviceOf(*together, "z") == "/device:GPU:0");
  // A group with a node lacking a GPU kernel goes to the CPU as a whole.
  auto mixed = MakeGraph("", "", /*colocate=*/true, "Square");
  REQUIRE(PlaceNodes(*mixed, gpu_first, TestRegistry()).ok());
  CHECK(DeviceOf(*mixed, "y") == "/device:CPU:0");
  CHECK(DeviceOf(*mixed, "z") == "/device:CPU:0");

  auto conflict = MakeGraph("/device:GPU:0", "/device:CPU:0", /*colocate=*/true, "Neg");
  absl::Status st = PlaceNodes(*conflict, gpu_first, TestRegistry(), Strict());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Catch::Contains("cannot colocate node") &&
                                            Catch::Contains("'y' (Neg)") &&
                                            Catch::Contains("'z' (Neg)"));
  REQUIRE(PlaceNodes(*conflict, gpu_first, TestRegistry()).ok());
  CHECK(DeviceOf(*conflict, "y") == DeviceOf(*conflict, "z"));
}

TEST_CASE("the session logs placement and honours strict placement") {
  GraphDef def;
  REQUIRE(ParseGraphDef(R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "y" op: "Neg" input: "x" device: "/device:GPU:0"
           attr { key: "T" value { type: DT_FLOAT } } })pb",
                        true, &def)
              .ok());
  std::vector<std::string> lines;
  SessionOptions options;
  options.placement_log = [&lines](const std::string& line) { lines.push_back(line); };
  auto session = Session::Create(def, options);
  REQUIRE(session.ok());
  std::vector<Tensor> out;
  REQUIRE((*session)->Run({{"x", Tensor::Scalar<float>(2)}}, {"y"}, {}, &out).ok());
  CHECK(out[0].data<float>()[0] == -2.f);
  CHECK(std::find(lines.begin(), lines.end(), "y: (Neg): /device:CPU:0") != lines.end());

  options.allow_soft_placement = false;
  auto strict = Session::Create(def, options);
  REQUIRE(strict.ok());
  absl::Status st = (*strict)->Run({{"x", Tensor::Scalar<float>(2)}}, {"y"}, {}, &out);
  CHECK_THAT(std::string(st.message()), Catch::Contains("node 'y' (Neg) requests device '/device:GPU:0'"));
  // The session stays usable for a signature that needs no GPU.
  REQUIRE((*strict)->Run({{"x", Tensor::Scalar<float>(2)}}, {"x"}, {}, &out).ok());
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("a constant follows its consumers when they all landed on one other device") {
  CpuDevice cpu(1);
  FakeGpu gpu;
  std::vector<Device*> gpu_first = {&gpu, &cpu};
  GraphDef def;
  REQUIRE(ParseGraphDef(R"pb(
    node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 2 } } } }
    node { name: "sq" op: "Square" input: "c" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "d" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 3 } } } }
    node { name: "neg" op: "Neg" input: "d" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "sq2" op: "Square" input: "d" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "e" op: "Const" device: "/device:GPU:0" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 4 } } } }
    node { name: "sq3" op: "Square" input: "e" attr { key: "T" value { type: DT_FLOAT } } }
  )pb", /*text=*/true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  REQUIRE(PlaceNodes(**graph, gpu_first, TestRegistry()).ok());
  // c's only consumer runs on the CPU (Square has no GPU kernel): c moves there.
  CHECK(DeviceOf(**graph, "c") == "/device:CPU:0");
  // d feeds the GPU and the CPU: it stays on the preferred device.
  CHECK(DeviceOf(**graph, "neg") == "/device:GPU:0");
  CHECK(DeviceOf(**graph, "d") == "/device:GPU:0");
  // e asked for the GPU: it stays.
  CHECK(DeviceOf(**graph, "e") == "/device:GPU:0");
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("a scalar node between CPU nodes stays on the CPU; a bigger or unknown one goes to the GPU") {
  CpuDevice cpu(1);
  FakeGpu gpu;
  std::vector<Device*> gpu_first = {&gpu, &cpu};
  // x (CPU only) -> y = Neg(x) -> z = Square(y) (CPU only), for three shapes of x.
  auto place = [&](const std::string& shape) {
    GraphDef def;
    REQUIRE(ParseGraphDef(absl::StrCat(R"pb(
      node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
             attr { key: "shape" value { shape { )pb", shape, R"pb( } } } }
      node { name: "y" op: "Neg" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
      node { name: "z" op: "Square" input: "y" attr { key: "T" value { type: DT_FLOAT } } }
    )pb"), /*text=*/true, &def).ok());
    auto graph = GraphFromGraphDef(def);
    REQUIRE(graph.ok());
    REQUIRE(PlaceNodes(**graph, gpu_first, TestRegistry()).ok());
    return DeviceOf(**graph, "y");
  };
  CHECK(place("") == "/device:CPU:0");                    // a scalar
  CHECK(place("dim { size: 1 }") == "/device:CPU:0");     // one element
  CHECK(place("dim { size: 2 }") == "/device:GPU:0");     // more
  CHECK(place("dim { size: -1 }") == "/device:GPU:0");    // unknown size
}


// x, p -> Switch(x, p) -> (true branch) y = Neg [y_device] -> Merge(false branch, y) -> z = Neg.
std::unique_ptr<Graph> SwitchMergeGraph(const std::string& y_device) {
  const std::string text = R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
    node { name: "s" op: "Switch" input: "x" input: "p" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "y" op: "Neg" input: "s:1" device: ")pb" + y_device + R"pb("
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "m" op: "Merge" input: "s:0" input: "y"
           attr { key: "T" value { type: DT_FLOAT } } attr { key: "N" value { i: 2 } } }
    node { name: "z" op: "Neg" input: "m" attr { key: "T" value { type: DT_FLOAT } } }
  )pb";
  GraphDef def;
  REQUIRE(ParseGraphDef(text, /*text=*/true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  INFO(graph.status().ToString());
  REQUIRE(graph.ok());
  return *std::move(graph);
}

TEST_CASE("a graph with TF1 control flow runs on the first CPU, whatever the GPU has kernels for") {
  CpuDevice cpu(1);
  CpuDevice cpu1(1, 1);
  FakeGpu gpu;
  // Neg has a GPU kernel, yet nothing goes there: the partition would split the Switch/Merge.
  auto graph = SwitchMergeGraph("");
  REQUIRE(PlaceNodes(*graph, {&gpu, &cpu}, TestRegistry(), Strict()).ok());
  for (const char* node : {"x", "p", "s", "y", "m", "z"}) {
    INFO(node);
    CHECK(DeviceOf(*graph, node) == "/device:CPU:0");
  }
  // A request elsewhere: soft placement runs it on the CPU with the rest, strict says why not.
  auto asks_gpu = SwitchMergeGraph("/device:GPU:0");
  REQUIRE(PlaceNodes(*asks_gpu, {&gpu, &cpu}, TestRegistry()).ok());
  CHECK(DeviceOf(*asks_gpu, "y") == "/device:CPU:0");
  absl::Status st = PlaceNodes(*asks_gpu, {&gpu, &cpu}, TestRegistry(), Strict());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()),
             Catch::Contains("node 'y' (Neg) requests device '/device:GPU:0'") &&
                 Catch::Contains("TF1 control flow (node 's' (Switch))") &&
                 Catch::Contains("/device:CPU:0"));
  // Two CPUs: a request for the second alone takes the whole graph there (every node has its
  // kernel on a CPU), even strictly; with no request, the first.
  auto asks_cpu1 = SwitchMergeGraph("/cpu:1");
  REQUIRE(PlaceNodes(*asks_cpu1, {&cpu, &cpu1}, TestRegistry(), Strict()).ok());
  for (const char* node : {"x", "s", "y", "m", "z"}) {
    INFO(node);
    CHECK(DeviceOf(*asks_cpu1, node) == "/device:CPU:1");
  }
  auto unasked = SwitchMergeGraph("");
  REQUIRE(PlaceNodes(*unasked, {&cpu, &cpu1}, TestRegistry()).ok());
  CHECK(DeviceOf(*unasked, "y") == "/device:CPU:0");
  // A request for the first CPU is fine even when strict.
  auto asks_cpu0 = SwitchMergeGraph("/cpu:0");
  CHECK(PlaceNodes(*asks_cpu0, {&gpu, &cpu}, TestRegistry(), Strict()).ok());
}

}  // namespace
}  // namespace weir
