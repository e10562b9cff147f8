// elementwise_chain_test.cc - The GPU's elementwise-chain fusion: golden graphs (each node
// assigned to the device it requests, as placement would), the fused nodes' attrs, that the
// result passes the op registry and shape inference, and that the attrs compute what the
// original ops did.
#include "compiler/passes/elementwise_chain.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "compiler/optimize.h"
#include "graph/attr.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "tests/compiler/golden_util.h"

namespace weir {
namespace {

constexpr char kGpu[] = "/device:GPU:0";
constexpr char kDir[] = "tests/compiler/testdata/elementwise_chain";
constexpr char kChainOp[] = "_WeirElementwiseChain";

// What a GPU chain kernel takes: float unary and binary elementwise ops.
int FloatArity(const Node& node) {
  static const auto* unary = new absl::flat_hash_set<std::string>{
      "Neg", "Exp", "Relu", "Square", "Sigmoid", "Tanh"};
  static const auto* binary = new absl::flat_hash_set<std::string>{
      "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum"};
  DataType type;
  if (!node.GetAttr("T", &type).ok() || type != DT_FLOAT) return 0;
  if (unary->contains(node.op())) return 1;
  if (binary->contains(node.op())) return 2;
  return 0;
}

ElementwiseChainOptions GpuOptions() {
  ElementwiseChainOptions options;
  options.device = kGpu;
  options.arity = FloatArity;
  return options;
}

struct ChainResult {
  std::string content;  // the golden file
  GraphDef input;
  std::unique_ptr<Graph> graph;  // after the pass
  GraphDef output;
  std::string text;  // CompactGraphText(output)
  int fused = -1;    // what the pass returned
};

// Runs the pass on a golden file the way the session will after placement: every node is
// assigned the device it requests. "# RUN: --max_inputs N --min_ops N" overrides `options`.
absl::StatusOr<ChainResult> RunChainFile(const std::string& path,
                                         ElementwiseChainOptions options = GpuOptions()) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  ChainResult result;
  result.content = buffer.str();
  for (absl::string_view line : absl::StrSplit(result.content, '\n')) {
    if (!absl::ConsumePrefix(&line, "# RUN:")) continue;
    std::vector<std::string> args = absl::StrSplit(line, ' ', absl::SkipEmpty());
    for (size_t i = 0; i + 1 < args.size(); i += 2) {
      int* target = args[i] == "--max_inputs" ? &options.max_inputs
                    : args[i] == "--min_ops"  ? &options.min_ops
                                              : nullptr;
      if (target == nullptr || !absl::SimpleAtoi(args[i + 1], target)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": bad RUN flag ", args[i]));
      }
    }
  }
  if (auto s = ParseGraphDef(result.content, /*text=*/true, &result.input); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(result.input);
  if (!graph.ok()) return graph.status();
  result.graph = *std::move(graph);
  for (Node* node : result.graph->nodes()) node->set_assigned_device(node->requested_device());
  absl::StatusOr<int> fused = FuseElementwiseChains(*result.graph, options);
  if (!fused.ok()) return fused.status();
  result.fused = *fused;
  result.output = GraphToGraphDef(*result.graph);
  result.text = CompactGraphText(result.output);
  return result;
}

// The value of the file's "# FUSED: N" line, or -1.
int ExpectedFused(const std::string& content) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    int n;
    if (absl::ConsumePrefix(&line, "# FUSED:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) {
      return n;
    }
  }
  return -1;
}

const NodeDef* FindNode(const GraphDef& graph, const std::string& name) {
  for (const NodeDef& node : graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

std::vector<std::string> Inputs(const NodeDef& node) {
  return {node.input().begin(), node.input().end()};
}
std::vector<std::string> Ops(const NodeDef& node) {
  const auto& list = node.attr().at("ops").list().s();
  return {list.begin(), list.end()};
}
std::vector<int64_t> Ints(const NodeDef& node, const std::string& attr) {
  const auto& list = node.attr().at(attr).list().i();
  return {list.begin(), list.end()};
}

// Expands every chain node back into one node per step, following the op's registered
// semantics (graph/ops/fused_ops.cc) rather than the pass: acc = inputs[0]; a step computes
// op(acc), op(acc, b) or op(b, acc), with b = acc for operand -2. The last step keeps the
// chain's name. Devices are dropped so the graph runs on the CPU.
GraphDef Unfuse(const GraphDef& graph) {
  GraphDef out;
  *out.mutable_versions() = graph.versions();
  for (const NodeDef& node : graph.node()) {
    if (node.op() != kChainOp) {
      *out.add_node() = node;
      out.mutable_node()->rbegin()->clear_device();
      continue;
    }
    const std::vector<std::string> ops = Ops(node);
    const std::vector<int64_t> operands = Ints(node, "operands");
    const std::vector<int64_t> acc_left = Ints(node, "acc_left");
    std::string acc = node.input(0);
    for (size_t s = 0; s < ops.size(); ++s) {
      NodeDef* step = out.add_node();
      step->set_name(s + 1 == ops.size() ? node.name() : absl::StrCat(node.name(), "/step", s));
      step->set_op(ops[s]);
      (*step->mutable_attr())["T"] = MakeAttr(DT_FLOAT);
      if (operands[s] == -1) {
        step->add_input(acc);
      } else {
        const std::string b = operands[s] == -2 ? acc : node.input(operands[s]);
        step->add_input(acc_left[s] != 0 ? acc : b);
        step->add_input(acc_left[s] != 0 ? b : acc);
      }
      acc = step->name();
    }
  }
  return out;
}

GraphDef WithoutDevices(GraphDef graph) {
  for (NodeDef& node : *graph.mutable_node()) node.clear_device();
  return graph;
}

TEST_CASE("elementwise chain golden files: expected graph, valid, same outputs") {
  const std::vector<std::string> files = testing::GoldenFiles(kDir);
  REQUIRE(files.size() >= 8);
  for (const std::string& file : files) {
    INFO(file);
    absl::StatusOr<ChainResult> r = RunChainFile(file);
    INFO(r.status().message());
    REQUIRE(r.ok());
    INFO(r->text);
    absl::Status checks = testing::CheckDirectives(file, r->content, r->text);
    INFO(checks.message());
    CHECK(checks.ok());

    // The count is the number of chain nodes, as the file says.
    int chains = 0;
    for (const NodeDef& node : r->output.node()) chains += node.op() == kChainOp;
    CHECK(r->fused == chains);
    CHECK(r->fused == ExpectedFused(r->content));

    // The result passes the registry and shape inference, and each chain node keeps the shape
    // of the node it replaced (the one it is named after), in the pass's graph and rebuilt.
    absl::StatusOr<std::unique_ptr<Graph>> rebuilt = GraphFromGraphDef(r->output);
    INFO(rebuilt.status().message());
    REQUIRE(rebuilt.ok());
    absl::StatusOr<std::unique_ptr<Graph>> original = GraphFromGraphDef(r->input);
    REQUIRE(original.ok());
    for (const Node* node : r->graph->nodes()) {
      if (node->op() != kChainOp) continue;
      INFO(node->name());
      const Node* before = (*original)->FindNode(node->name());
      const Node* after = (*rebuilt)->FindNode(node->name());
      REQUIRE(before != nullptr);
      REQUIRE(after != nullptr);
      CHECK(before->op() != kChainOp);
      CHECK(node->assigned_device() == kGpu);
      CHECK(node->output_shape(0).IsFullyDefined());
      CHECK(node->output_shape(0) == before->output_shape(0));
      CHECK(after->output_shape(0) == before->output_shape(0));
      CHECK(node->num_inputs() <= GpuOptions().max_inputs);
    }

    // Expanded back into single ops by the op's own definition, the graph computes what the
    // original did.
    absl::Status same = testing::CheckSameOutputs(WithoutDevices(r->input), Unfuse(r->output));
    INFO(same.message());
    CHECK(same.ok());
  }
}

TEST_CASE("a straight chain becomes one node with the steps in order") {
  absl::StatusOr<ChainResult> r = RunChainFile(absl::StrCat(kDir, "/straight_chain.pbtxt"));
  REQUIRE(r.ok());
  CHECK(r->fused == 1);
  const NodeDef* y = FindNode(r->output, "y");
  REQUIRE(y != nullptr);
  INFO(y->DebugString());
  CHECK(y->op() == kChainOp);
  CHECK(y->device() == kGpu);
  CHECK(Inputs(*y) == std::vector<std::string>{"x", "c", "s", "d"});
  CHECK(Ops(*y) == std::vector<std::string>{"Add", "Mul", "Relu", "Sub"});
  CHECK(Ints(*y, "operands") == std::vector<int64_t>{1, 2, -1, 3});
  // Sub(d, acc): the accumulator is the right operand.
  CHECK(Ints(*y, "acc_left") == std::vector<int64_t>{1, 1, 1, 0});
  CHECK(y->attr().at("N").i() == 4);
  CHECK(y->attr().at("T").type() == DT_FLOAT);
  for (const char* gone : {"a", "m", "r"}) CHECK(FindNode(r->output, gone) == nullptr);
  const NodeDef* out = FindNode(r->output, "out");
  REQUIRE(out != nullptr);
  CHECK(Inputs(*out) == std::vector<std::string>{"y"});
}

TEST_CASE("operands that are the accumulator or the chain's first input") {
  absl::StatusOr<ChainResult> r = RunChainFile(absl::StrCat(kDir, "/self_operand.pbtxt"));
  REQUIRE(r.ok());
  const NodeDef* y = FindNode(r->output, "y");
  REQUIRE(y != nullptr);
  INFO(y->DebugString());
  CHECK(Inputs(*y) == std::vector<std::string>{"x", "c"});
  CHECK(Ops(*y) == std::vector<std::string>{"Add", "Mul", "Mul", "Sub"});
  // b = a * x reads input 0 again; sq = b * b is -2; y = x - sq reads input 0 on the left.
  CHECK(Ints(*y, "operands") == std::vector<int64_t>{1, 0, -2, 0});
  CHECK(Ints(*y, "acc_left") == std::vector<int64_t>{1, 1, 1, 0});
  CHECK(y->attr().at("N").i() == 2);
}

TEST_CASE("one-element operands broadcast on either side") {
  absl::StatusOr<ChainResult> r = RunChainFile(absl::StrCat(kDir, "/broadcast.pbtxt"));
  REQUIRE(r.ok());
  const NodeDef* y = FindNode(r->output, "y");
  REQUIRE(y != nullptr);
  INFO(y->DebugString());
  CHECK(Inputs(*y) == std::vector<std::string>{"w", "s0", "s1"});
  CHECK(Ops(*y) == std::vector<std::string>{"Mul", "Add", "Maximum"});
  CHECK(Ints(*y, "operands") == std::vector<int64_t>{1, 2, 1});
  CHECK(Ints(*y, "acc_left") == std::vector<int64_t>{1, 1, 0});
}

TEST_CASE("max_inputs splits a chain into connected nodes") {
  absl::StatusOr<ChainResult> r = RunChainFile(absl::StrCat(kDir, "/max_inputs.pbtxt"));
  REQUIRE(r.ok());
  CHECK(r->fused == 2);
  const NodeDef* b = FindNode(r->output, "b");
  const NodeDef* e = FindNode(r->output, "e");
  REQUIRE(b != nullptr);
  REQUIRE(e != nullptr);
  INFO(r->text);
  CHECK(b->op() == kChainOp);
  CHECK(Inputs(*b) == std::vector<std::string>{"x", "c1", "c2"});
  CHECK(Ops(*b) == std::vector<std::string>{"Add", "Mul"});
  CHECK(Ints(*b, "operands") == std::vector<int64_t>{1, 2});
  CHECK(e->op() == kChainOp);
  // The second piece's accumulator is the first piece's output.
  CHECK(Inputs(*e) == std::vector<std::string>{"b", "c3", "c4"});
  CHECK(Ops(*e) == std::vector<std::string>{"Sub", "Add", "Relu"});
  CHECK(Ints(*e, "operands") == std::vector<int64_t>{1, 2, -1});
  CHECK(Ints(*e, "acc_left") == std::vector<int64_t>{0, 1, 1});
  const Node* second = r->graph->FindNode("e");
  REQUIRE(second != nullptr);
  REQUIRE(second->input_edge(0) != nullptr);
  CHECK(second->input_edge(0)->src == r->graph->FindNode("b"));
}

TEST_CASE("max_inputs 1 leaves binary steps alone and fuses runs of unary ones") {
  ElementwiseChainOptions options = GpuOptions();
  options.max_inputs = 1;
  options.min_ops = 1;
  absl::StatusOr<ChainResult> r =
      RunChainFile(absl::StrCat(kDir, "/straight_chain.pbtxt"), options);
  INFO(r.status().message());
  REQUIRE(r.ok());
  INFO(r->text);
  CHECK(r->fused == 1);
  CHECK(absl::StrContains(r->text, "a = Add(x, c)"));
  CHECK(absl::StrContains(r->text, "m = Mul(a, s)"));
  CHECK(absl::StrContains(r->text, "y = Sub(d, r)"));
  const NodeDef* relu = FindNode(r->output, "r");
  REQUIRE(relu != nullptr);
  CHECK(relu->op() == kChainOp);
  CHECK(Inputs(*relu) == std::vector<std::string>{"m"});
  CHECK(Ops(*relu) == std::vector<std::string>{"Relu"});
  CHECK(Ints(*relu, "operands") == std::vector<int64_t>{-1});
}

TEST_CASE("only the options' device fuses") {
  ElementwiseChainOptions options = GpuOptions();
  options.device = "/device:GPU:1";
  absl::StatusOr<ChainResult> r =
      RunChainFile(absl::StrCat(kDir, "/straight_chain.pbtxt"), options);
  REQUIRE(r.ok());
  CHECK(r->fused == 0);
  CHECK(r->text == CompactGraphText(r->input));
}

}  // namespace
}  // namespace weir
