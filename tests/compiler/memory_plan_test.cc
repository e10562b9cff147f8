// memory_plan_test.cc - The static memory plan: kinds (planned, in-place, alias, external,
// dynamic), lifetimes, reuse of dead buffers, and the invariant that no two buffers alive at
// the same step share arena bytes, on hand-made graphs and random DAGs.
#include "compiler/memory_plan.h"

#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "graph/convert.h"
#include "graph/graph_io.h"

namespace weir {
namespace {

std::unique_ptr<Graph> Parse(const std::string& text) {
  GraphDef def;
  absl::Status s = ParseGraphDef(text, /*text=*/true, &def);
  INFO(s.message());
  REQUIRE(s.ok());
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
  INFO(graph.status().message());
  REQUIRE(graph.ok());
  return std::move(*graph);
}

std::string Placeholder(const std::string& name, const std::string& dims) {
  return absl::StrCat("node { name: '", name,
                      "' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } "
                      "attr { key: 'shape' value { shape { ",
                      dims, " } } } }\n");
}

std::string Op(const std::string& name, const std::string& op,
               const std::vector<std::string>& inputs, const std::string& extra = "") {
  std::string text = absl::StrCat("node { name: '", name, "' op: '", op, "' ");
  for (const std::string& in : inputs) absl::StrAppend(&text, "input: '", in, "' ");
  absl::StrAppend(&text, "attr { key: 'T' value { type: DT_FLOAT } } ", extra, "}\n");
  return text;
}

const PlannedBuffer& Find(const MemoryPlan& plan, const std::string& node, int output = 0) {
  for (const PlannedBuffer& b : plan.buffers) {
    if (b.node == node && b.output == output) return b;
  }
  FAIL("no buffer " << node << ":" << output);
  return plan.buffers[0];
}

// Every pair of arena-resident buffers (planned roots) alive at a common step is disjoint.
void CheckNoOverlap(const MemoryPlan& plan) {
  std::vector<const PlannedBuffer*> roots;
  for (const PlannedBuffer& b : plan.buffers) {
    if (b.kind == PlannedBuffer::Kind::kPlanned) roots.push_back(&b);
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    const PlannedBuffer& a = *roots[i];
    CHECK(a.offset >= 0);
    CHECK(a.offset % 64 == 0);
    CHECK(a.offset + a.bytes <= plan.arena_bytes);
    for (size_t j = i + 1; j < roots.size(); ++j) {
      const PlannedBuffer& b = *roots[j];
      const bool time = a.first_step <= b.last_step && b.first_step <= a.last_step;
      const bool space = a.offset < b.offset + std::max<int64_t>(b.bytes, 1) &&
                         b.offset < a.offset + std::max<int64_t>(a.bytes, 1);
      INFO(a.node << " [" << a.first_step << "," << a.last_step << "] @" << a.offset << "+"
                  << a.bytes << " vs " << b.node << " [" << b.first_step << "," << b.last_step
                  << "] @" << b.offset << "+" << b.bytes);
      CHECK_FALSE((time && space));
    }
  }
  CHECK(plan.arena_bytes >= plan.live_peak_bytes);
  CHECK(plan.arena_bytes <= plan.no_reuse_bytes + 64 * static_cast<int64_t>(plan.num_planned));
}

TEST_CASE("memory plan: in place, aliases, reuse of a dead buffer") {
  // x (feed, 1 KiB) -> a = Exp(x) -> b = Mul(a, a) in place -> r = Reshape(b) view ->
  // m = MatMul(r, r) new buffer -> e = Exp(m) in place; a's buffer dies at m.
  std::string text = Placeholder("x", "dim { size: 256 }");
  text += "node { name: 'shape' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } } "
          "attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 2 } } "
          "int_val: 16 int_val: 16 } } } }\n";
  text += Op("a", "Exp", {"x"});
  text += Op("b", "Mul", {"a", "a"});
  text += Op("r", "Reshape", {"b", "shape"}, "attr { key: 'Tshape' value { type: DT_INT32 } } ");
  text += Op("m", "MatMul", {"r", "r"});
  text += Op("e", "Exp", {"m"});
  auto graph = Parse(text);
  absl::StatusOr<MemoryPlan> plan = PlanMemory(*graph);
  REQUIRE(plan.ok());
  INFO(plan->DebugString());
  CHECK(Find(*plan, "x").kind == PlannedBuffer::Kind::kExternal);
  CHECK(Find(*plan, "shape").kind == PlannedBuffer::Kind::kExternal);
  CHECK(Find(*plan, "a").kind == PlannedBuffer::Kind::kPlanned);
  CHECK(Find(*plan, "a").bytes == 1024);
  CHECK(Find(*plan, "b").kind == PlannedBuffer::Kind::kInPlace);
  CHECK(Find(*plan, "r").kind == PlannedBuffer::Kind::kAlias);
  CHECK(Find(*plan, "r").offset == Find(*plan, "a").offset);
  CHECK(Find(*plan, "m").kind == PlannedBuffer::Kind::kPlanned);
  CHECK(Find(*plan, "e").kind == PlannedBuffer::Kind::kInPlace);
  // a's buffer lives through the view until MatMul reads it; MatMul's output needs a second
  // block, so the arena holds two 1 KiB buffers (without in-place and views, four).
  CHECK(Find(*plan, "a").last_step == Find(*plan, "m").first_step);
  CHECK(Find(*plan, "e").last_step == static_cast<int>(plan->schedule.size()));
  CHECK(plan->arena_bytes == 2048);
  CHECK(plan->no_reuse_bytes == 2048);
  CHECK(plan->num_in_place == 2);
  CHECK(plan->num_alias == 1);
  CheckNoOverlap(*plan);
}

TEST_CASE("memory plan: a buffer read later is not overwritten in place; dead ones are reused") {
  // a = Exp(x); b = Tanh(a) cannot overwrite a (c reads a later); c = Add(a, b) may overwrite
  // a or b; d = Sigmoid(c) in place; then f = Exp(x) after everything reuses freed space.
  std::string text = Placeholder("x", "dim { size: 64 } dim { size: 16 }");
  text += Op("a", "Exp", {"x"});
  text += Op("b", "Tanh", {"a"});
  text += Op("c", "AddV2", {"a", "b"});
  text += Op("d", "Sigmoid", {"c"});
  text += Op("s", "Sum", {"d", "axis"},
             "attr { key: 'Tidx' value { type: DT_INT32 } } attr { key: 'keep_dims' value { b: "
             "true } } ");
  text += "node { name: 'axis' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } } "
          "attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 1 } } "
          "} }\n";
  text += Op("f", "Mul", {"x", "s"});
  auto graph = Parse(text);
  absl::StatusOr<MemoryPlan> plan = PlanMemory(*graph);
  REQUIRE(plan.ok());
  INFO(plan->DebugString());
  CHECK(Find(*plan, "b").kind == PlannedBuffer::Kind::kPlanned);
  CHECK(Find(*plan, "c").kind == PlannedBuffer::Kind::kInPlace);
  CHECK(Find(*plan, "d").kind == PlannedBuffer::Kind::kInPlace);
  // f ([64,16]) is written after d's chain died at s: it reuses that space.
  CHECK(Find(*plan, "f").kind == PlannedBuffer::Kind::kPlanned);
  CHECK(plan->arena_bytes < plan->no_reuse_bytes);
  CheckNoOverlap(*plan);
}

TEST_CASE("memory plan: unknown sizes are dynamic, unused extra outputs die at once") {
  std::string text = Placeholder("x", "dim { size: -1 } dim { size: 8 }");
  text += Op("a", "Relu", {"x"});
  auto graph = Parse(text);
  absl::StatusOr<MemoryPlan> plan = PlanMemory(*graph);
  REQUIRE(plan.ok());
  CHECK(Find(*plan, "a").kind == PlannedBuffer::Kind::kDynamic);
  CHECK(plan->num_dynamic == 1);
  CHECK(plan->arena_bytes == 0);
  CHECK(plan->Summary().find("1 dynamic") != std::string::npos);
}

TEST_CASE("memory plan: random DAGs never overlap live buffers") {
  std::mt19937 rng(12345);
  const std::vector<std::string> unary = {"Exp", "Tanh", "Relu", "Neg"};
  const std::vector<std::string> binary = {"AddV2", "Mul", "Sub", "Maximum"};
  for (int trial = 0; trial < 40; ++trial) {
    const int n = 5 + static_cast<int>(rng() % 40);
    std::vector<int> sizes = {8, 16, 32};
    const int size = sizes[rng() % sizes.size()];
    std::string text = Placeholder("x", absl::StrCat("dim { size: ", size, " }"));
    std::vector<std::string> names = {"x"};
    for (int i = 0; i < n; ++i) {
      const std::string name = absl::StrCat("n", i);
      const std::string a = names[rng() % names.size()];
      if (rng() % 2 == 0) {
        text += Op(name, unary[rng() % unary.size()], {a});
      } else {
        const std::string b = names[rng() % names.size()];
        text += Op(name, binary[rng() % binary.size()], {a, b});
      }
      names.push_back(name);
    }
    auto graph = Parse(text);
    absl::StatusOr<MemoryPlan> plan = PlanMemory(*graph);
    REQUIRE(plan.ok());
    INFO("trial " << trial << "\n" << plan->DebugString());
    CheckNoOverlap(*plan);
    // In-place outputs point at a planned root whose lifetime covers theirs, and nothing
    // reads an earlier value of that buffer after the in-place write.
    std::map<std::string, int> step;
    for (size_t i = 0; i < plan->schedule.size(); ++i) step[plan->schedule[i]] = i;
    auto root_of = [&](const PlannedBuffer* b) {
      while (b->reuses >= 0) b = &plan->buffers[b->reuses];
      return b;
    };
    for (const PlannedBuffer& b : plan->buffers) {
      if (b.kind != PlannedBuffer::Kind::kInPlace) continue;
      const PlannedBuffer& root = plan->buffers[b.reuses];
      CHECK(root.kind == PlannedBuffer::Kind::kPlanned);
      CHECK(root.first_step < b.first_step);
      CHECK(root.last_step >= b.last_step);
      for (const PlannedBuffer& earlier : plan->buffers) {
        if (earlier.first_step >= b.first_step || root_of(&earlier) != &root) continue;
        const Node* producer = graph->FindNode(earlier.node);
        for (const Edge* e : producer->out_edges()) {
          if (e->IsControl() || e->src_output != earlier.output) continue;
          INFO(earlier.node << " read by " << e->dst->name() << " after " << b.node
                            << " overwrote it");
          CHECK(step[e->dst->name()] <= b.first_step);
        }
      }
    }
  }
}

}  // namespace
}  // namespace weir
