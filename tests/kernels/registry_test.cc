// registry_test.cc - Every registered op has a CPU kernel (but the GPU-only
// _WeirElementwiseChain), and lookups name what is missing.
#include "kernels/registry.h"

#include <set>

#include <catch2/catch.hpp>

#include "graph/graph.h"
#include "graph/op_registry.h"

namespace weir {
namespace {

TEST_CASE("every registered op has a CPU kernel") {
  std::vector<std::string> cpu = DefaultKernelRegistry().Ops(kDeviceCpu);
  std::set<std::string> have(cpu.begin(), cpu.end());
  for (const std::string& op : OpRegistry::Global().ListOps()) {
    if (op.rfind("Test", 0) == 0) continue;  // test-only ops registered by other tests
    // Made only by a GPU session after placement, for the GPU (compiler/passes/
    // elementwise_chain.h); its ops run on the CPU one by one.
    if (op == "_WeirElementwiseChain") continue;
    INFO("op " << op);
    CHECK(have.count(op) == 1);
  }
}

TEST_CASE("a missing dtype names the node, the attr and what is registered") {
  Graph graph;
  NodeDef def;
  def.set_name("s");
  def.set_op("Softmax");
  (*def.mutable_attr())["T"].set_type(DT_HALF);
  absl::StatusOr<Node*> node = graph.AddNode(def);
  REQUIRE(node.ok());
  absl::StatusOr<const KernelDef*> k = DefaultKernelRegistry().Find(**node, kDeviceCpu);
  REQUIRE_FALSE(k.ok());
  CHECK_THAT(std::string(k.status().message()),
             Catch::Contains("node 's' (Softmax)") && Catch::Contains("T=half") &&
                 Catch::Contains("registered: float"));
}

}  // namespace
}  // namespace weir
