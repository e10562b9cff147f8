// pad_fold_test.cc - The pad-fold pass: golden graphs (folds and non-folds) with the same
// outputs as the originals, the padding each fold writes, and where the pipeline runs it.
#include "compiler/passes/pad_fold.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "compiler/optimize.h"
#include "compiler/pipeline.h"
#include "graph/graph_io.h"
#include "tests/compiler/golden_util.h"

namespace weir {
namespace {

constexpr char kDir[] = "tests/compiler/testdata/pad_fold/";

TEST_CASE("pad-fold golden files: expected graph and same outputs as the original") {
  absl::Status status = testing::CheckGoldenFolder(kDir, 16);
  INFO(status.message());
  CHECK(status.ok());
}

const NodeDef* FindNode(const GraphDef& graph, const std::string& name) {
  for (const NodeDef& node : graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

std::vector<int64_t> ExplicitPaddings(const NodeDef& node) {
  std::vector<int64_t> out;
  auto it = node.attr().find("explicit_paddings");
  if (it == node.attr().end()) return out;
  for (int64_t p : it->second.list().i()) out.push_back(p);
  return out;
}

// Runs a golden file and returns the named node of its output.
NodeDef Folded(const std::string& file, const std::string& name) {
  absl::StatusOr<testing::GoldenResult> r = testing::RunGoldenFile(kDir + file);
  INFO(file << ": " << r.status().message());
  REQUIRE(r.ok());
  const NodeDef* node = FindNode(r->output, name);
  REQUIRE(node != nullptr);
  return *node;
}

TEST_CASE("folded convolutions carry the summed padding in the plainest form") {
  SECTION("MobileNetV2's ((0,1),(0,1)) before a stride-2 depthwise conv is SAME") {
    NodeDef dw = Folded("depthwise_nhwc_mobilenet.pbtxt", "dw");
    CHECK(dw.attr().at("padding").s() == "SAME");
    CHECK(ExplicitPaddings(dw).empty());
  }
  SECTION("unknown spatial size: EXPLICIT") {
    NodeDef dw = Folded("depthwise_unknown_size_explicit.pbtxt", "dw");
    CHECK(dw.attr().at("padding").s() == "EXPLICIT");
    CHECK(ExplicitPaddings(dw) == std::vector<int64_t>{0, 0, 0, 1, 0, 1, 0, 0});
  }
  SECTION("NCHW: paddings in NCHW order") {
    NodeDef y = Folded("conv_nchw_explicit.pbtxt", "y");
    CHECK(y.attr().at("padding").s() == "EXPLICIT");
    CHECK(y.attr().at("data_format").s() == "NCHW");
    CHECK(ExplicitPaddings(y) == std::vector<int64_t>{0, 0, 0, 0, 2, 1, 1, 1});
  }
  SECTION("EXPLICIT conv: the pad adds to its paddings") {
    NodeDef y = Folded("conv_explicit_adds.pbtxt", "y");
    CHECK(y.attr().at("padding").s() == "EXPLICIT");
    CHECK(ExplicitPaddings(y) == std::vector<int64_t>{0, 0, 2, 1, 2, 1, 0, 0});
  }
  SECTION("PadV2 with 0, ResNet's (3,3) before a stride-2 7x7 conv") {
    NodeDef y = Folded("padv2_zero.pbtxt", "y");
    CHECK(y.attr().at("padding").s() == "EXPLICIT");
    CHECK(ExplicitPaddings(y) == std::vector<int64_t>{0, 0, 3, 3, 3, 3, 0, 0});
  }
  SECTION("the level-2 pipeline fuses the folded conv, keeping EXPLICIT padding") {
    NodeDef y = Folded("pipeline_fuses_after_fold.pbtxt", "y");
    CHECK(y.op() == "_FusedConv2D");
    CHECK(y.attr().at("padding").s() == "EXPLICIT");
    CHECK(ExplicitPaddings(y) == std::vector<int64_t>{0, 0, 1, 2, 0, 1, 0, 0});
  }
  SECTION("_FusedDepthwiseConv2dNative: SAME, no explicit_paddings attr") {
    NodeDef y = Folded("fused_depthwise_same.pbtxt", "y");
    CHECK(y.attr().at("padding").s() == "SAME");
    CHECK(y.attr().count("explicit_paddings") == 0);
  }
}

TEST_CASE("the pipeline folds pads at level 2 and above, before fusion") {
  std::ifstream in(std::string(kDir) + "depthwise_nhwc_mobilenet.pbtxt");
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
    CHECK((FindNode(*out, "pad") == nullptr) == (level >= 2));
  }
  for (int level = 2; level <= kMaxOptLevel; ++level) {
    std::vector<std::string> names;
    for (const auto& pass : BuildPipeline(level)) names.push_back(pass->name());
    auto at = [&](const std::string& name) {
      return std::find(names.begin(), names.end(), name) - names.begin();
    };
    INFO("level " << level);
    CHECK(at("layout") < at("pad-fold"));
    CHECK(at("pad-fold") < at("fusion"));
    CHECK(at("fusion") < static_cast<long>(names.size()));
  }
  bool listed = false;
  for (const PassInfo& info : ListPasses()) listed = listed || info.name == "pad-fold";
  CHECK(listed);
}

}  // namespace
}  // namespace weir
