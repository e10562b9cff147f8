// opt.cc - `weir opt GRAPH -o OUT` and `weir compile-bench`.
#include "tools/opt.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "compiler/memory_plan.h"
#include "compiler/optimize.h"
#include "compiler/pipeline.h"
#include "compiler/placement.h"
#include "graph/attr.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "kernels/registry.h"
#include "runtime/device.h"

namespace weir {

const char kOptUsage[] =
    "  weir opt GRAPH -o OUT [--level N] [--passes a,b,c] [--keep NODE ...]\n"
    "               [--dump-after-each DIR] [--time-passes] [--list-passes]\n"
    "               [--memory-plan[=full]] [--input-shape NAME=d0,d1,...]\n"
    "      Optimizes a GraphDef and writes it to OUT (.pbtxt as text, else binary). Nodes\n"
    "      nothing consumes (and --keep nodes) keep their names. --level 0-3 (default 2)\n"
    "      picks the pipeline; --passes runs exactly the named passes; --dump-after-each\n"
    "      writes DIR/NN-<pass>.pbtxt after every pass; --time-passes prints each pass's time.\n"
    "  weir compile-bench [--nodes 1000,10000,100000] [--level N] [--repeats N]\n"
    "      Generates graphs of the given sizes and times the pipeline plus placement.\n";

namespace {

int Fail(std::ostream& err, const absl::Status& status) {
  err << "weir: error: " << status.message() << "\n";
  return 1;
}

int Usage(std::ostream& err, const std::string& message) {
  err << "weir: error: " << message << "\nusage:\n" << kOptUsage;
  return 2;
}

// "--flag value" or "--flag=value"; sets *missing when the value is absent.
bool TakeValue(const std::vector<std::string>& args, size_t* i, const std::string& flag,
               std::string* value, bool* missing) {
  const std::string& arg = args[*i];
  if (arg == flag) {
    if (*i + 1 >= args.size()) {
      *missing = true;
      return true;
    }
    *value = args[++*i];
    return true;
  }
  if (absl::StartsWith(arg, flag + "=")) {
    *value = arg.substr(flag.size() + 1);
    return true;
  }
  return false;
}

}  // namespace

int OptCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string graph_path, out_path, dump_dir;
  bool time_passes = false;
  std::string memory_plan;  // "", "summary" or "full"
  std::vector<std::pair<std::string, std::vector<int64_t>>> input_shapes;
  OptimizeOptions options;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    bool missing = false;
    if (args[i] == "--list-passes") {
      for (const PassInfo& info : ListPasses()) {
        out << info.name << ": " << info.description << "\n";
      }
      return 0;
    } else if (args[i] == "--time-passes") {
      time_passes = true;
    } else if (args[i] == "--memory-plan") {
      memory_plan = "summary";
    } else if (args[i] == "--memory-plan=full") {
      memory_plan = "full";
    } else if (TakeValue(args, &i, "--input-shape", &value, &missing)) {
      std::vector<std::string> parts = absl::StrSplit(value, absl::MaxSplits('=', 1));
      std::vector<int64_t> dims;
      bool ok = !missing && parts.size() == 2 && !parts[0].empty();
      if (ok && !parts[1].empty()) {
        for (absl::string_view d : absl::StrSplit(parts[1], ',')) {
          int64_t v;
          ok = ok && absl::SimpleAtoi(d, &v) && v >= 0;
          dims.push_back(v);
        }
      }
      if (!ok) return Usage(err, absl::StrCat("--input-shape '", value, "' should be NAME=d0,d1,..."));
      input_shapes.emplace_back(parts[0], dims);
    } else if (TakeValue(args, &i, "-o", &value, &missing) ||
               TakeValue(args, &i, "--out", &value, &missing)) {
      if (missing) return Usage(err, "-o needs a value");
      out_path = value;
    } else if (TakeValue(args, &i, "--level", &value, &missing)) {
      if (missing || !absl::SimpleAtoi(value, &options.opt_level) || options.opt_level < 0 ||
          options.opt_level > kMaxOptLevel) {
        return Usage(err, absl::StrCat("--level '", value, "' should be 0 to ", kMaxOptLevel));
      }
    } else if (TakeValue(args, &i, "--passes", &value, &missing)) {
      if (missing) return Usage(err, "--passes needs a value");
      options.passes = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else if (TakeValue(args, &i, "--keep", &value, &missing)) {
      if (missing) return Usage(err, "--keep needs a value");
      options.keep.push_back(value);
    } else if (TakeValue(args, &i, "--dump-after-each", &value, &missing)) {
      if (missing) return Usage(err, "--dump-after-each needs a value");
      dump_dir = value;
    } else if (absl::StartsWith(args[i], "-")) {
      return Usage(err, absl::StrCat("unknown flag '", args[i], "'"));
    } else if (graph_path.empty()) {
      graph_path = args[i];
    } else {
      return Usage(err, absl::StrCat("unexpected argument '", args[i], "'"));
    }
  }
  if (graph_path.empty()) return Usage(err, "weir opt needs a GRAPH file");
  if (out_path.empty()) return Usage(err, "weir opt needs -o OUT");
  if (!options.passes.empty()) {
    // Reject an unknown pass before reading the graph.
    if (auto passes = BuildPasses(options.passes); !passes.ok()) {
      return Fail(err, passes.status());
    }
  }
  if (!dump_dir.empty()) {
    struct stat st;
    if (stat(dump_dir.c_str(), &st) != 0 && mkdir(dump_dir.c_str(), 0755) != 0) {
      return Fail(err, absl::PermissionDeniedError(
                           absl::StrCat("cannot create dump directory '", dump_dir, "'")));
    }
  }
  GraphDef input;
  if (auto s = ReadGraphDef(graph_path, &input); !s.ok()) return Fail(err, s);

  for (const auto& [name, dims] : input_shapes) {
    NodeDef* node = nullptr;
    for (NodeDef& n : *input.mutable_node()) {
      if (n.name() == name) node = &n;
    }
    if (node == nullptr ||
        (node->op() != "Placeholder" && node->op() != "PlaceholderWithDefault")) {
      return Fail(err, absl::NotFoundError(absl::StrCat(
                           "--input-shape: no Placeholder named '", name, "' in the graph")));
    }
    TensorShapeProto shape;
    for (int64_t d : dims) shape.add_dim()->set_size(d);
    *(*node->mutable_attr())["shape"].mutable_shape() = shape;
  }

  options.pipeline.verify = true;  // a tool run can afford the checks
  int index = 0;
  absl::Status dump_status;
  double total_ms = 0;
  options.pipeline.after_pass = [&](const std::string& pass, bool changed, double ms,
                                    const Graph& graph) {
    ++index;
    total_ms += ms;
    if (time_passes) {
      char line[160];
      std::snprintf(line, sizeof(line), "pass %-18s %9.3f ms  %s  (%d nodes)", pass.c_str(), ms,
                    changed ? "changed" : "unchanged", graph.num_nodes());
      out << line << "\n";
    }
    if (!dump_dir.empty() && dump_status.ok()) {
      char prefix[16];
      std::snprintf(prefix, sizeof(prefix), "%02d-", index);
      std::string path = absl::StrCat(dump_dir, "/", prefix, pass, ".pbtxt");
      GraphDef def = GraphToGraphDef(graph);
      if (!changed) {
        // Keep the numbering but say so instead of repeating the graph.
        def.Clear();
      }
      absl::Status s = WriteGraphDef(path, def);
      if (s.ok() && !changed) {
        FILE* f = fopen(path.c_str(), "w");
        if (f != nullptr) {
          std::fprintf(f, "# unchanged by %s\n", pass.c_str());
          fclose(f);
        }
      }
      dump_status = s;
    }
  };
  absl::StatusOr<GraphDef> optimized = OptimizeGraphDef(input, options);
  if (!optimized.ok()) return Fail(err, optimized.status());
  if (!dump_status.ok()) return Fail(err, dump_status);
  if (auto s = WriteGraphDef(out_path, *optimized); !s.ok()) return Fail(err, s);
  if (time_passes) {
    char line[160];
    std::snprintf(line, sizeof(line), "total %9.3f ms  nodes %d -> %d", total_ms,
                  input.node_size(), optimized->node_size());
    out << line << "\n";
  }
  if (!memory_plan.empty()) {
    absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(*optimized);
    if (!graph.ok()) return Fail(err, graph.status());
    absl::StatusOr<MemoryPlan> plan = PlanMemory(**graph);
    if (!plan.ok()) return Fail(err, plan.status());
    out << (memory_plan == "full" ? plan->DebugString() : plan->Summary() + "\n");
  }
  return 0;
}

namespace {

NodeDef MakeNode(const std::string& name, const std::string& op,
                 std::vector<std::string> inputs) {
  NodeDef node;
  node.set_name(name);
  node.set_op(op);
  for (std::string& in : inputs) node.add_input(std::move(in));
  return node;
}

// A graph of about `n` nodes that looks like real inference graphs to the passes: a chain of
// elementwise layers over one placeholder with per-layer constants, plus the patterns every
// pass rewrites (constant subgraphs, duplicates, x*1, Identity chains), all reaching one sink.
GraphDef GenerateGraph(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  GraphDef graph;
  auto add = [&](NodeDef node, bool typed = true) -> std::string {
    if (typed) (*node.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    graph.add_node()->Swap(&node);
    return graph.node(graph.node_size() - 1).name();
  };
  auto constant = [&](const std::string& name, float v) {
    NodeDef c = MakeNode(name, "Const", {});
    TensorProto t;
    t.set_dtype(DT_FLOAT);
    t.mutable_tensor_shape()->add_dim()->set_size(16);
    for (int i = 0; i < 16; ++i) t.add_float_val(v + 0.01f * i);
    (*c.mutable_attr())["dtype"] = MakeAttr(DT_FLOAT);
    (*c.mutable_attr())["value"] = MakeAttr(t);
    return add(c, false);
  };
  NodeDef x = MakeNode("x", "Placeholder", {});
  (*x.mutable_attr())["dtype"] = MakeAttr(DT_FLOAT);
  (*x.mutable_attr())["shape"] = MakeAttr(PartialShape({8, 16}));
  std::vector<std::string> live = {add(x, false)};
  const char* unary[] = {"Relu", "Tanh", "Neg", "Identity", "Sigmoid"};
  const char* binary[] = {"AddV2", "Mul", "Sub"};
  int layer = 0;
  while (graph.node_size() < n - 2) {
    const std::string p = absl::StrCat("l", layer++, "/");
    const std::string& a = live[rng() % live.size()];
    const std::string& b = live[rng() % live.size()];
    switch (rng() % 5) {
      case 0: {  // constant subgraph: folds
        std::string c1 = constant(p + "c1", 0.5f), c2 = constant(p + "c2", 2.f);
        std::string m = add(MakeNode(p + "cm", "Mul", {c1, c2}));
        live.push_back(add(MakeNode(p + "add", "AddV2", {a, m})));
        break;
      }
      case 1: {  // duplicates: CSE
        std::string d1 = add(MakeNode(p + "d1", "AddV2", {a, b}));
        std::string d2 = add(MakeNode(p + "d2", "AddV2", {a, b}));
        live.push_back(add(MakeNode(p + "mul", "Mul", {d1, d2})));
        break;
      }
      case 2: {  // x*1 and Identity: simplify
        std::string one = constant(p + "one", 1.f);
        NodeDef& last = *graph.mutable_node(graph.node_size() - 1);
        for (int i = 0; i < 16; ++i) {
          last.mutable_attr()->at("value").mutable_tensor()->set_float_val(i, 1.f);
        }
        std::string m = add(MakeNode(p + "m1", "Mul", {a, one}));
        live.push_back(add(MakeNode(p + "id", "Identity", {m})));
        break;
      }
      case 3:
        live.push_back(add(MakeNode(p + "u", unary[rng() % 5], {a})));
        break;
      default:
        live.push_back(add(MakeNode(p + "b", binary[rng() % 3], {a, b})));
        break;
    }
    // A sliding window keeps the graph deep as well as wide, like layered models.
    if (live.size() > 64) live.erase(live.begin());
  }
  // One sink reading every live tensor through an AddN keeps the whole graph needed.
  NodeDef sink = MakeNode("out", "AddN", live);
  (*sink.mutable_attr())["N"] = MakeAttr(static_cast<int64_t>(live.size()));
  add(sink);
  return graph;
}

}  // namespace

int CompileBenchCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  std::vector<int> sizes = {1000, 10000, 100000};
  int level = 2;
  int repeats = 3;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    bool missing = false;
    if (TakeValue(args, &i, "--nodes", &value, &missing)) {
      sizes.clear();
      for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        int n;
        if (missing || !absl::SimpleAtoi(part, &n) || n < 10) {
          return Usage(err, absl::StrCat("--nodes '", value, "' should list sizes >= 10"));
        }
        sizes.push_back(n);
      }
    } else if (TakeValue(args, &i, "--level", &value, &missing)) {
      if (missing || !absl::SimpleAtoi(value, &level) || level < 0 || level > kMaxOptLevel) {
        return Usage(err, absl::StrCat("--level '", value, "' should be 0 to ", kMaxOptLevel));
      }
    } else if (TakeValue(args, &i, "--repeats", &value, &missing)) {
      if (missing || !absl::SimpleAtoi(value, &repeats) || repeats < 1) {
        return Usage(err, absl::StrCat("--repeats '", value, "' should be >= 1"));
      }
    } else {
      return Usage(err, absl::StrCat("unexpected argument '", args[i], "'"));
    }
  }
  CpuDevice cpu(1);
  std::vector<Device*> devices = {&cpu};
  for (int n : sizes) {
    GraphDef def = GenerateGraph(n, 1234);
    absl::StatusOr<std::unique_ptr<Graph>> imported = GraphFromGraphDef(def);
    if (!imported.ok()) return Fail(err, imported.status());
    std::vector<double> times;
    int after = 0;
    for (int r = 0; r < repeats; ++r) {
      std::unique_ptr<Graph> graph = (*imported)->Clone();
      PassContext context;
      context.opt_level = level;
      context.keep_nodes = {"out"};
      PipelineOptions options;
      options.verify = false;  // what a session pays
      auto start = std::chrono::steady_clock::now();
      absl::Status s = RunPipeline(*graph, context, options);
      if (s.ok()) s = PlaceNodes(*graph, devices, DefaultKernelRegistry());
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (!s.ok()) return Fail(err, s);
      after = graph->num_nodes();
    }
    std::sort(times.begin(), times.end());
    char line[200];
    std::snprintf(line, sizeof(line),
                  "nodes=%d level=%d compile_ms=%.2f (median of %d; pipeline+placement) "
                  "nodes_after=%d us_per_node=%.2f",
                  def.node_size(), level, times[times.size() / 2], repeats, after,
                  1000.0 * times[times.size() / 2] / def.node_size());
    out << line << "\n";
  }
  return 0;
}

}  // namespace weir
