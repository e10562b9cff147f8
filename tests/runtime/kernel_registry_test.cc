// kernel_registry_test.cc - KernelRegistry::Find with KernelDef::constraint: a row whose
// constraint refuses a node is skipped (a later row may take it), the constraint sees the node
// and is only asked about rows that otherwise match, and when every matching row refuses,
// Find's NotFound (and CreateKernel's error) names the node and gives the constraint's reason.
// Uses its own registry, not DefaultKernelRegistry().
#include "runtime/kernel_registry.h"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graph/graph.h"
#include "runtime/device.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

// A Neg node named `name` with T = `dtype`, in `graph`.
Node* AddNeg(Graph& graph, const std::string& name, DataType dtype = DT_FLOAT) {
  NodeDef def;
  def.set_name(name);
  def.set_op("Neg");
  (*def.mutable_attr())["T"].set_type(dtype);
  absl::StatusOr<Node*> node = graph.AddNode(def);
  INFO(node.status().ToString());
  REQUIRE(node.ok());
  return *node;
}

KernelFactory FailingFactory(const std::string& what) {
  return [what](const KernelConstruction&) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return absl::InternalError(absl::StrCat("factory of ", what, " called"));
  };
}

// A CPU row for Neg; `types` tells rows apart in the tests below.
KernelDef NegRow(std::vector<DataType> types, const std::string& what) {
  return KernelDef{"Neg", kDeviceCpu, "T", std::move(types), FailingFactory(what)};
}

// Refuses nodes whose name starts with "refused", counting the calls and the last node seen.
struct Gate {
  int calls = 0;
  std::string last_node;
  std::function<absl::Status(const Node&)> Constraint() {
    return [this](const Node& node) -> absl::Status {
      ++calls;
      last_node = node.name();
      if (node.name().rfind("refused", 0) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("input 1 of ", node.name(), " is not a constant"));
      }
      return absl::OkStatus();
    };
  }
};

TEST_CASE("KernelDef::constraint: a refusing row is skipped for the next matching one") {
  KernelRegistry registry;
  Gate gate;
  KernelDef gated = NegRow({DT_FLOAT, DT_DOUBLE}, "gated");
  gated.constraint = gate.Constraint();
  registry.Register(std::move(gated));
  registry.Register(NegRow({DT_FLOAT}, "plain"));  // after the gated row, same op and device

  Graph graph;
  Node* accepted = AddNeg(graph, "accepted");
  Node* refused = AddNeg(graph, "refused_neg");

  absl::StatusOr<const KernelDef*> row = registry.Find(*accepted, kDeviceCpu);
  REQUIRE(row.ok());
  CHECK((*row)->types.size() == 2);  // the gated row, which accepts this node
  CHECK(gate.calls == 1);
  CHECK(gate.last_node == "accepted");

  row = registry.Find(*refused, kDeviceCpu);
  INFO(row.status().ToString());
  REQUIRE(row.ok());
  CHECK((*row)->types.size() == 1);  // the plain row
  CHECK_FALSE((*row)->constraint);
  CHECK(gate.calls == 2);
  CHECK(gate.last_node == "refused_neg");
  CHECK(registry.HasKernel(*refused, kDeviceCpu));
}

TEST_CASE("KernelDef::constraint: when every matching row refuses, NotFound gives the reason") {
  KernelRegistry registry;
  Gate gate;
  KernelDef gated = NegRow({DT_FLOAT}, "gated");
  gated.constraint = gate.Constraint();
  registry.Register(std::move(gated));

  Graph graph;
  Node* refused = AddNeg(graph, "refused_neg");
  absl::StatusOr<const KernelDef*> row = registry.Find(*refused, kDeviceCpu);
  REQUIRE_FALSE(row.ok());
  CHECK(row.status().code() == absl::StatusCode::kNotFound);
  const std::string message(row.status().message());
  CHECK_THAT(message, Contains("refused_neg") && Contains("Neg") && Contains(kDeviceCpu) &&
                          Contains("input 1 of refused_neg is not a constant"));
  CHECK_FALSE(registry.HasKernel(*refused, kDeviceCpu));

  // A second refusing row: still NotFound, and the reason is there.
  KernelDef also_gated = NegRow({DT_FLOAT, DT_HALF}, "also gated");
  also_gated.constraint = [](const Node&) { return absl::InvalidArgumentError("never"); };
  registry.Register(std::move(also_gated));
  row = registry.Find(*refused, kDeviceCpu);
  REQUIRE_FALSE(row.ok());
  CHECK(row.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(row.status().message()),
             Contains("input 1 of refused_neg is not a constant"));

  // CreateKernel reports the same lookup failure, before any factory runs.
  CpuDevice device;
  absl::StatusOr<std::unique_ptr<OpKernel>> kernel = CreateKernel(registry, *refused, &device);
  REQUIRE_FALSE(kernel.ok());
  CHECK(kernel.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(kernel.status().message()),
             Contains("refused_neg") && Contains("is not a constant") && !Contains("factory of"));

  // A node the constraint accepts reaches the factory.
  Node* accepted = AddNeg(graph, "accepted");
  kernel = CreateKernel(registry, *accepted, &device);
  REQUIRE_FALSE(kernel.ok());
  CHECK_THAT(std::string(kernel.status().message()), Contains("factory of gated called"));
}

TEST_CASE("KernelDef::constraint: asked only about rows that otherwise match") {
  KernelRegistry registry;
  Gate cpu_gate, gpu_gate;
  KernelDef cpu_row = NegRow({DT_DOUBLE}, "double only");
  cpu_row.constraint = cpu_gate.Constraint();
  registry.Register(std::move(cpu_row));
  KernelDef gpu_row{"Neg", kDeviceGpu, "T", {DT_FLOAT}, FailingFactory("gpu")};
  gpu_row.constraint = gpu_gate.Constraint();
  registry.Register(std::move(gpu_row));

  Graph graph;
  Node* node = AddNeg(graph, "refused_float", DT_FLOAT);
  // The CPU row lists another dtype: the usual dtype message, the constraint never asked.
  absl::StatusOr<const KernelDef*> row = registry.Find(*node, kDeviceCpu);
  REQUIRE_FALSE(row.ok());
  CHECK(row.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(row.status().message()),
             Contains("T=float") && !Contains("is not a constant"));
  CHECK(cpu_gate.calls == 0);
  CHECK(gpu_gate.calls == 0);  // another device type's row is not asked either

  // The GPU row matches the dtype, so its constraint decides.
  row = registry.Find(*node, kDeviceGpu);
  REQUIRE_FALSE(row.ok());
  CHECK(gpu_gate.calls == 1);
  CHECK_THAT(std::string(row.status().message()),
             Contains(kDeviceGpu) && Contains("is not a constant"));
  Node* fine = AddNeg(graph, "fine", DT_FLOAT);
  CHECK(registry.Find(*fine, kDeviceGpu).ok());
  CHECK(gpu_gate.calls == 2);
}

TEST_CASE("KernelDef::constraint: applies to rows without a type attr") {
  KernelRegistry registry;
  Gate gate;
  KernelDef any_type{"Neg", kDeviceCpu, "", {}, FailingFactory("any type")};
  any_type.constraint = gate.Constraint();
  registry.Register(std::move(any_type));

  Graph graph;
  CHECK(registry.Find(*AddNeg(graph, "accepted", DT_INT32), kDeviceCpu).ok());
  absl::StatusOr<const KernelDef*> row =
      registry.Find(*AddNeg(graph, "refused_int", DT_INT32), kDeviceCpu);
  REQUIRE_FALSE(row.ok());
  CHECK(row.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(row.status().message()),
             Contains("input 1 of refused_int is not a constant"));
  CHECK(gate.calls == 2);
}

}  // namespace
}  // namespace weir
