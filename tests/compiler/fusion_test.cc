// fusion_test.cc - The fusion pass: golden graphs with the same outputs as the originals, the
// attrs of the fused nodes (TensorFlow's names), and which pipeline levels fuse.
#include "compiler/passes/fusion.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "compiler/optimize.h"
#include "compiler/pipeline.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "tests/compiler/golden_util.h"

namespace weir {
namespace {

TEST_CASE("fusion golden files: expected graph and same outputs as the original") {
  absl::Status status = testing::CheckGoldenFolder("tests/compiler/testdata/fusion", 13);
  INFO(status.message());
  CHECK(status.ok());
}

const NodeDef* FindNode(const GraphDef& graph, const std::string& name) {
  for (const NodeDef& node : graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

std::vector<std::string> FusedOps(const NodeDef& node) {
  std::vector<std::string> out;
  auto it = node.attr().find("fused_ops");
  if (it == node.attr().end()) return out;
  for (const std::string& s : it->second.list().s()) out.push_back(s);
  return out;
}

TEST_CASE("fused nodes carry TensorFlow's attrs") {
  SECTION("_FusedMatMul") {
    absl::StatusOr<testing::GoldenResult> r =
        testing::RunGoldenFile("tests/compiler/testdata/fusion/matmul_bias_relu.pbtxt");
    REQUIRE(r.ok());
    const NodeDef* y = FindNode(r->output, "y");
    REQUIRE(y != nullptr);
    CHECK(y->op() == "_FusedMatMul");
    CHECK(FusedOps(*y) == std::vector<std::string>{"BiasAdd", "Relu"});
    CHECK(y->attr().at("num_args").i() == 1);
    CHECK(y->attr().at("T").type() == DT_FLOAT);
    CHECK(y->attr().at("transpose_a").b() == false);
    CHECK(y->attr().count("epsilon") == 1);
    CHECK(y->attr().count("leakyrelu_alpha") == 1);
  }
  SECTION("_FusedMatMul keeps transpose_b") {
    absl::StatusOr<testing::GoldenResult> r =
        testing::RunGoldenFile("tests/compiler/testdata/fusion/matmul_bias_only.pbtxt");
    REQUIRE(r.ok());
    const NodeDef* ba = FindNode(r->output, "ba");
    REQUIRE(ba != nullptr);
    CHECK(FusedOps(*ba) == std::vector<std::string>{"BiasAdd"});
    CHECK(ba->attr().at("transpose_b").b() == true);
  }
  SECTION("_FusedConv2D: each activation, the base op's attrs, LeakyRelu's alpha") {
    absl::StatusOr<testing::GoldenResult> r =
        testing::RunGoldenFile("tests/compiler/testdata/fusion/conv_activations.pbtxt");
    REQUIRE(r.ok());
    const std::vector<std::string> acts = {"Relu", "Relu6", "Tanh", "Sigmoid", "Elu",
                                           "LeakyRelu"};
    for (size_t i = 0; i < acts.size(); ++i) {
      const NodeDef* a = FindNode(r->output, "a" + std::to_string(i));
      REQUIRE(a != nullptr);
      INFO(a->DebugString());
      CHECK(a->op() == "_FusedConv2D");
      CHECK(FusedOps(*a) == std::vector<std::string>{"BiasAdd", acts[i]});
      CHECK(a->attr().at("padding").s() == "SAME");
      CHECK(a->attr().at("strides").list().i(1) == 1 + static_cast<int>(i % 2));
      CHECK(a->attr().at("TArgs").list().type_size() == 1);
      CHECK(a->attr().at("num_host_args").i() == 0);
      if (acts[i] == "LeakyRelu") {
        CHECK(a->attr().at("leakyrelu_alpha").f() == Approx(0.1f));
      }
    }
  }
  SECTION("_FusedDepthwiseConv2dNative has no Conv2D-only attrs") {
    absl::StatusOr<testing::GoldenResult> r =
        testing::RunGoldenFile("tests/compiler/testdata/fusion/depthwise_bias_relu6.pbtxt");
    REQUIRE(r.ok());
    const NodeDef* y = FindNode(r->output, "y");
    REQUIRE(y != nullptr);
    CHECK(FusedOps(*y) == std::vector<std::string>{"BiasAdd", "Relu6"});
    CHECK(y->attr().count("explicit_paddings") == 0);
    CHECK(y->attr().count("use_cudnn_on_gpu") == 0);
  }
}

TEST_CASE("the pipeline fuses at level 2 and above, not below") {
  std::ifstream in("tests/compiler/testdata/fusion/matmul_bias_relu.pbtxt");
  std::stringstream buffer;
  buffer << in.rdbuf();
  GraphDef input;
  REQUIRE(ParseGraphDef(buffer.str(), /*text=*/true, &input).ok());
  for (int level = 0; level <= kMaxOptLevel; ++level) {
    INFO("level " << level);
    OptimizeOptions options;
    options.opt_level = level;
    options.pipeline.verify = true;
    absl::StatusOr<GraphDef> out = OptimizeGraphDef(input, options);
    REQUIRE(out.ok());
    const NodeDef* y = FindNode(*out, "y");
    REQUIRE(y != nullptr);
    CHECK(y->op() == (level >= 2 ? "_FusedMatMul" : "Relu"));
  }
  bool listed = false;
  for (const PassInfo& info : ListPasses()) listed = listed || info.name == "fusion";
  CHECK(listed);
}

}  // namespace
}  // namespace weir
