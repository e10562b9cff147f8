// pipeline_test.cc - Optimization levels, the pass catalogue, the verifier and error reports.
#include "compiler/pipeline.h"

#include <catch2/catch.hpp>

#include "graph/convert.h"
#include "graph/graph_io.h"

namespace weir {
namespace {

std::vector<std::string> Names(const std::vector<std::unique_ptr<Pass>>& passes) {
  std::vector<std::string> names;
  for (const auto& p : passes) names.push_back(p->name());
  return names;
}

TEST_CASE("each optimization level lists its passes in order") {
  CHECK(Names(BuildPipeline(0)) == std::vector<std::string>{"prune"});
  CHECK(Names(BuildPipeline(1)) ==
        std::vector<std::string>{"prune", "simplify", "constant-folding", "dce"});
  CHECK(Names(BuildPipeline(2)) == std::vector<std::string>{"prune", "simplify",
                                                            "constant-folding", "layout",
                                                            "cse", "simplify", "pad-fold",
                                                            "fusion", "dce"});
  CHECK(Names(BuildPipeline(3)).size() > Names(BuildPipeline(2)).size());
  CHECK(Names(BuildPipeline(9)) == Names(BuildPipeline(3)));  // clamped
  for (const PassInfo& info : ListPasses()) {
    auto passes = BuildPasses({info.name});
    REQUIRE(passes.ok());
    CHECK((*passes)[0]->name() == info.name);
  }
}

class BrokenPass : public Pass {
 public:
  std::string name() const override { return "broken"; }
  absl::StatusOr<bool> Run(Graph& graph, const PassContext&) override {
    // Leaves input 0 of 'b' unconnected, which the verifier must catch.
    Node* b = graph.FindNode("b");
    graph.RemoveEdge(const_cast<Edge*>(b->input_edge(0)));
    return true;
  }
};

class FailingPass : public Pass {
 public:
  std::string name() const override { return "failing"; }
  absl::StatusOr<bool> Run(Graph&, const PassContext&) override {
    return absl::InvalidArgumentError("node 'b' (Identity): expected x, found y");
  }
};

constexpr char kGraph[] = R"pb(
  node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
  node { name: "b" op: "Identity" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
)pb";

TEST_CASE("the verifier names the pass that broke the graph, errors name the pass") {
  GraphDef def;
  REQUIRE(ParseGraphDef(kGraph, true, &def).ok());
  auto graph = GraphFromGraphDef(def);
  REQUIRE(graph.ok());
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<BrokenPass>());
  PipelineOptions options;
  options.verify = true;
  absl::Status s = RunPasses(passes, **graph, PassContext(), options);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.message()),
             Catch::Contains("after pass broken") && Catch::Contains("'b' (Identity)") &&
                 Catch::Contains("0 producers, expected 1"));

  passes.clear();
  passes.push_back(std::make_unique<FailingPass>());
  s = RunPasses(passes, **graph, PassContext(), options);
  CHECK_THAT(std::string(s.message()), Catch::StartsWith("pass failing: node 'b'"));
  CHECK_FALSE(BuildPasses({"nope"}).ok());
}

}  // namespace
}  // namespace weir
