// constant_folding_test.cc - Constant folding: golden graphs, equal outputs, size cap, stateful ops, fetched names.
#include "compiler/passes/constant_folding.h"

#include <atomic>

#include <catch2/catch.hpp>

#include "compiler/optimize.h"
#include "compiler/pipeline.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "graph/ops/shape_fns.h"
#include "kernels/registry.h"
#include "runtime/session.h"
#include "tests/compiler/golden_util.h"

namespace weir {
namespace {

TEST_CASE("constant_folding golden files: expected graph and same outputs as the original") {
  absl::Status status = testing::CheckGoldenFolder("tests/compiler/testdata/constant_folding");
  INFO(status.message());
  CHECK(status.ok());
}

constexpr char kFoldable[] = R"pb(
  node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
  node { name: "a" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
         attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: 1 float_val: 2 } } } }
  node { name: "s" op: "AddV2" input: "a" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
  node { name: "y" op: "Mul" input: "s" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
)pb";

TEST_CASE("a session fetches folded nodes by their names") {
  GraphDef def;
  REQUIRE(ParseGraphDef(kFoldable, true, &def).ok());
  auto session = Session::Create(def);  // opt level 2
  REQUIRE(session.ok());
  std::vector<Tensor> out;
  absl::Status s = (*session)->Run({{"x", Tensor::FromVector<float>({3, 4}, {2})}}, {"s", "y"},
                                   {}, &out);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(out[0].flat<float>()[1] == 4.f);
  CHECK(out[1].flat<float>()[0] == 6.f);
  CHECK(out[1].flat<float>()[1] == 16.f);
}

constexpr char kBigFill[] = R"pb(
  node { name: "dims" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
         attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 2 } } int_val: 512 int_val: 1024 } } } }
  node { name: "v" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
         attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 1 } } } }
  node { name: "fill" op: "Fill" input: "dims" input: "v" attr { key: "T" value { type: DT_FLOAT } } }
  node { name: "y" op: "Relu" input: "fill" attr { key: "T" value { type: DT_FLOAT } } }
)pb";

TEST_CASE("constant folding respects its size cap") {
  GraphDef def;
  REQUIRE(ParseGraphDef(kBigFill, true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  PassContext context;
  context.keep_nodes = {"y"};
  ConstantFoldingOptions small;
  small.max_tensor_bytes = 1 << 20;  // the Fill makes 2 MiB
  ConstantFoldingPass capped(small);
  auto changed = capped.Run(**graph, context);
  REQUIRE(changed.ok());
  CHECK_FALSE(*changed);
  CHECK((*graph)->FindNode("fill")->op() == "Fill");
  ConstantFoldingPass uncapped;  // 10 MiB per tensor
  changed = uncapped.Run(**graph, context);
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK((*graph)->FindNode("y")->op() == "Const");
  CHECK(VerifyGraph(**graph).ok());
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

std::atomic<int> big_computes{0};

// Makes a [512, 1024] float tensor (2 MiB) from a scalar and counts its runs: shows whether
// folding evaluated the node.
class CountingBroadcast : public OpKernel {
 public:
  using OpKernel::OpKernel;
  absl::Status Compute(KernelContext* ctx) override {
    ++big_computes;
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, DT_FLOAT, TensorShape({512, 1024}));
    if (!out.ok()) return out.status();
    for (float& v : (*out)->flat<float>()) v = ctx->input(0).data<float>()[0];
    return absl::OkStatus();
  }
};

TEST_CASE("constant folding does not compute a node whose inferred output is over the cap") {
  static bool registered = [] {
    OpRegistry::Global().Register(OpSpec("TestFoldCountingBroadcast")
                                      .Input("x: float")
                                      .Output("y: float")
                                      .SetShapeFn([](ShapeContext* ctx) {
                                        ctx->set_output(0, PartialShape({512, 1024}));
                                        return absl::OkStatus();
                                      }));
    DefaultKernelRegistry().Register(
        {"TestFoldCountingBroadcast", kDeviceCpu, "", {}, MakeFactory<CountingBroadcast>()});
    return true;
  }();
  (void)registered;
  GraphDef def;
  REQUIRE(ParseGraphDef(R"pb(
    node { name: "one" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 1 } } } }
    node { name: "y" op: "TestFoldCountingBroadcast" input: "one" }
  )pb", true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  REQUIRE((*graph)->FindNode("y")->output_shape(0).IsFullyDefined());
  PassContext context;
  context.keep_nodes = {"y"};
  ConstantFoldingOptions small;
  small.max_tensor_bytes = 1 << 20;
  big_computes = 0;
  auto changed = ConstantFoldingPass(small).Run(**graph, context);
  REQUIRE(changed.ok());
  CHECK((*graph)->FindNode("y")->op() == "TestFoldCountingBroadcast");
  CHECK(big_computes == 0);  // its 2 MiB output was known to be too big beforehand
  // Under a cap it fits, it is folded, and so it was computed once.
  auto big_graph = GraphFromGraphDef(def);
  REQUIRE(big_graph.ok());
  changed = ConstantFoldingPass().Run(**big_graph, context);
  REQUIRE(changed.ok());
  CHECK((*big_graph)->FindNode("y")->op() == "Const");
  CHECK(big_computes == 1);
}

}  // namespace
}  // namespace weir
