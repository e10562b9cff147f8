// layout_test.cc - The layout pass: golden graphs with the same outputs as the originals, the
// permuted attrs and constant operands, and where the pipeline runs it.
#include "compiler/passes/layout.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "compiler/optimize.h"
#include "compiler/pipeline.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "runtime/tensor.h"
#include "tests/compiler/golden_util.h"

namespace weir {
namespace {

TEST_CASE("layout golden files: expected graph and same outputs as the original") {
  absl::Status status = testing::CheckGoldenFolder("tests/compiler/testdata/layout", 9);
  INFO(status.message());
  CHECK(status.ok());
}

const NodeDef* FindNode(const GraphDef& graph, const std::string& name) {
  for (const NodeDef& node : graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

std::vector<int64_t> Ints(const NodeDef& node, const std::string& attr) {
  const auto& list = node.attr().at(attr).list().i();
  return std::vector<int64_t>(list.begin(), list.end());
}

// The values of a Const node (int32 or float, stored any way TensorProto allows).
std::vector<double> ConstValues(const NodeDef& node) {
  absl::StatusOr<Tensor> t = Tensor::FromProto(node.attr().at("value").tensor());
  REQUIRE(t.ok());
  std::vector<double> out;
  if (t->dtype() == DT_INT32) {
    for (int32_t v : t->flat<int32_t>()) out.push_back(v);
  } else {
    for (float v : t->flat<float>()) out.push_back(v);
  }
  return out;
}

const NodeDef& Input(const GraphDef& graph, const NodeDef& node, int i) {
  const NodeDef* in = FindNode(graph, node.input(i));
  REQUIRE(in != nullptr);
  return *in;
}

testing::GoldenResult Golden(const std::string& file) {
  absl::StatusOr<testing::GoldenResult> r =
      testing::RunGoldenFile("tests/compiler/testdata/layout/" + file);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *std::move(r);
}

TEST_CASE("converted nodes carry NHWC attrs") {
  SECTION("Conv2D strides and BiasAdd data_format") {
    testing::GoldenResult r = Golden("conv_bias_relu.pbtxt");
    const NodeDef* conv = FindNode(r.output, "conv");
    REQUIRE(conv != nullptr);
    CHECK(conv->attr().at("data_format").s() == "NHWC");
    CHECK(Ints(*conv, "strides") == std::vector<int64_t>{1, 1, 2, 1});
    CHECK(FindNode(r.output, "b")->attr().at("data_format").s() == "NHWC");
    CHECK(ConstValues(*FindNode(r.output, "layout/to_nhwc_perm")) ==
          std::vector<double>{0, 2, 3, 1});
    CHECK(ConstValues(*FindNode(r.output, "layout/to_nchw_perm")) ==
          std::vector<double>{0, 3, 1, 2});
  }
  SECTION("pooling windows") {
    testing::GoldenResult r = Golden("pool.pbtxt");
    const NodeDef* mp = FindNode(r.output, "mp");
    const NodeDef* ap = FindNode(r.output, "ap/nhwc");
    REQUIRE(mp != nullptr);
    REQUIRE(ap != nullptr);
    CHECK(Ints(*mp, "ksize") == std::vector<int64_t>{1, 3, 2, 1});
    CHECK(Ints(*mp, "strides") == std::vector<int64_t>{1, 2, 1, 1});
    CHECK(Ints(*ap, "ksize") == std::vector<int64_t>{1, 2, 3, 1});
    CHECK(Ints(*ap, "strides") == std::vector<int64_t>{1, 1, 2, 1});
    CHECK(ap->attr().at("data_format").s() == "NHWC");
  }
  SECTION("explicit paddings, dilations and a transposed 4-D Const") {
    testing::GoldenResult r = Golden("explicit_padding_dilation.pbtxt");
    const NodeDef* conv = FindNode(r.output, "conv");
    REQUIRE(conv != nullptr);
    CHECK(Ints(*conv, "explicit_paddings") == std::vector<int64_t>{0, 0, 1, 2, 0, 1, 0, 0});
    CHECK(Ints(*conv, "dilations") == std::vector<int64_t>{1, 1, 2, 1});
    CHECK(Ints(*conv, "strides") == std::vector<int64_t>{1, 2, 1, 1});
    const NodeDef* shift = FindNode(r.output, "shift/nhwc");
    REQUIRE(shift != nullptr);
    const auto& dims = shift->attr().at("value").tensor().tensor_shape().dim();
    REQUIRE(dims.size() == 4);
    CHECK(dims[3].size() == 3);
  }
  SECTION("Pad, ConcatV2 and Mean operands") {
    testing::GoldenResult r = Golden("pad_concat_mean.pbtxt");
    const NodeDef* pad = FindNode(r.output, "pad");
    const NodeDef* cat = FindNode(r.output, "cat");
    const NodeDef* out = FindNode(r.output, "out");
    REQUIRE(pad != nullptr);
    REQUIRE(cat != nullptr);
    REQUIRE(out != nullptr);
    CHECK(ConstValues(Input(r.output, *pad, 1)) ==
          std::vector<double>{0, 0, 1, 1, 2, 0, 0, 0});
    CHECK(ConstValues(Input(r.output, *cat, 2)) == std::vector<double>{3});
    CHECK(ConstValues(Input(r.output, *out, 1)) == std::vector<double>{1, 2});
  }
  SECTION("untouched nodes keep NCHW") {
    testing::GoldenResult r = Golden("nothing_to_gain.pbtxt");
    CHECK(FindNode(r.output, "b")->attr().at("data_format").s() == "NCHW");
    CHECK(FindNode(r.output, "gconv")->attr().at("data_format").s() == "NCHW");
  }
}

GraphDef ReadGraph(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  GraphDef graph;
  REQUIRE(ParseGraphDef(buffer.str(), /*text=*/true, &graph).ok());
  return graph;
}

TEST_CASE("the pipeline converts layouts at level 2 and above, not below") {
  const GraphDef input = ReadGraph("tests/compiler/testdata/layout/conv_bias_relu.pbtxt");
  for (int level = 0; level <= kMaxOptLevel; ++level) {
    INFO("level " << level);
    OptimizeOptions options;
    options.opt_level = level;
    options.pipeline.verify = true;
    absl::StatusOr<GraphDef> out = OptimizeGraphDef(input, options);
    REQUIRE(out.ok());
    const NodeDef* y = FindNode(*out, "y");
    REQUIRE(y != nullptr);
    CHECK(y->op() == (level >= 2 ? "Transpose" : "Relu"));
    if (level >= 2) {
      // Fusion then sees an NHWC convolution.
      const NodeDef* fused = FindNode(*out, "y/nhwc");
      REQUIRE(fused != nullptr);
      CHECK(fused->op() == "_FusedConv2D");
      CHECK(fused->attr().at("data_format").s() == "NHWC");
    }
    REQUIRE(testing::CheckSameOutputs(input, *out).ok());
  }
  bool listed = false;
  for (const PassInfo& info : ListPasses()) listed = listed || info.name == "layout";
  CHECK(listed);
}

TEST_CASE("a second run of the pass finds nothing to do") {
  OptimizeOptions options;
  options.passes = {"layout"};
  options.pipeline.verify = true;
  for (const std::string& file : testing::GoldenFiles("tests/compiler/testdata/layout")) {
    INFO(file);
    absl::StatusOr<GraphDef> once = OptimizeGraphDef(ReadGraph(file), options);
    REQUIRE(once.ok());
    absl::StatusOr<GraphDef> twice = OptimizeGraphDef(*once, options);
    REQUIRE(twice.ok());
    CHECK(twice->node_size() == once->node_size());
  }
}

}  // namespace
}  // namespace weir
