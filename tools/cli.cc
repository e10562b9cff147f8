// cli.cc - `weir run` and `weir dump`.
#include "tools/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/pipeline.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "graph/types.h"
#include "runtime/session.h"
#include "runtime/step_stats.h"
#include "tools/npy.h"
#include "tools/opt.h"
#include "tools/train.h"
#include "training/checkpoint.h"

namespace weir {
namespace {

constexpr char kUsage[] =
    "usage:\n"
    "  weir run GRAPH --feed NAME=FILE.npy ... --fetch NAME[:i] ... [--target NODE ...]\n"
    "                 [--out DIR] [--threads N] [--trace FILE.json] [--init NODE ...]\n"
    "                 [--checkpoint FILE] [--opt-level N] [--log-placement]\n"
    "                 [--no-soft-placement] [--cpu-devices N] [--gpus N]\n"
    "      Runs a GraphDef (.pb or .pbtxt) and prints each fetched tensor; with --out DIR\n"
    "      also writes DIR/<fetch>.npy; with --trace a Chrome trace of every kernel.\n"
    "      --init runs a node once first (a variable initializer such as 'init');\n"
    "      --checkpoint restores the graph's variables from a `weir train` checkpoint;\n"
    "      --opt-level picks the compiler's optimization level, 0-3 (default 2);\n"
    "      --log-placement prints 'node: (Op): device' for every node of the compiled plan;\n"
    "      --no-soft-placement makes a request for a missing device an error;\n"
    "      --threads N sets both thread counts (0 = one per core); --inter-op-threads N and\n"
    "      --intra-op-threads N set one of them (run and bench);\n"
    "      --cpu-devices N gives the session CPU devices /device:CPU:0..N-1 (default 1): nodes\n"
    "      requesting /device:CPU:1 run there, with copies between devices (run and bench);\n"
    "      --gpus N uses at most N GPUs (0 = CPU only; default: the GPU CUDA finds, if any):\n"
    "      nodes with a GPU kernel run on /device:GPU:0 (run and bench).\n"
    "  weir bench GRAPH --feed NAME=FILE.npy ... --fetch NAME[:i] ... [--runs N] [--warmup N]\n"
    "                   [--threads N] [--slowest N] [--init NODE ...] [--checkpoint FILE]\n"
    "                   [--opt-level N]\n"
    "      Compiles once, runs warm-up then N timed runs in-process and prints\n"
    "      median_us=... p10_us=... p90_us=... runs=N; --slowest N then lists the N nodes\n"
    "      with the largest mean kernel time (from traced runs after the timed ones).\n"
    "  weir dump GRAPH\n"
    "      Summarizes a graph: inputs, outputs, op histogram, parameters, every node.\n";

struct Usage {
  std::string message;
};

// Reports one failure line and returns the exit code.
int Fail(std::ostream& err, const absl::Status& status) {
  err << "weir: error: " << status.message() << "\n";
  return 1;
}

int UsageError(std::ostream& err, const std::string& message) {
  err << "weir: error: " << message << "\n" << kUsage << kOptUsage << kTrainUsage;
  return 2;
}

// Parses "--flag value" and "--flag=value" forms.
bool TakeFlag(const std::vector<std::string>& args, size_t* i, const std::string& flag,
              std::string* value, std::string* error) {
  const std::string& arg = args[*i];
  if (arg == flag) {
    if (*i + 1 >= args.size()) {
      *error = absl::StrCat(flag, " needs a value");
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

absl::Status LoadGraph(const std::string& path, GraphDef* def) { return ReadGraphDef(path, def); }

std::string Summary(const Tensor& t) {
  std::string text = absl::StrCat(DataTypeString(t.dtype()), " ", t.shape().ToString());
  constexpr int kMaxPrinted = 64;
  text += " " + t.ValuesString(kMaxPrinted);
  if (t.num_elements() > kMaxPrinted && (t.dtype() == DT_FLOAT || t.dtype() == DT_DOUBLE)) {
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (int64_t i = 0; i < t.num_elements(); ++i) {
      double v = t.dtype() == DT_FLOAT ? t.data<float>()[i] : t.data<double>()[i];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    text += absl::StrCat("\n  (", t.num_elements(), " values; min ", lo, ", max ", hi, ", mean ",
                         sum / t.num_elements(), ")");
  }
  return text;
}

// Flags shared by `run` and `bench`.
struct RunFlags {
  std::string graph_path;
  std::vector<std::pair<std::string, std::string>> feeds;  // name, .npy path
  std::vector<std::string> fetches;
  std::vector<std::string> targets;
  std::vector<std::string> init_targets;  // run once before everything else (initializers)
  std::string checkpoint;                 // restored before running, when set
  bool log_placement = false;             // print every node's device
  bool soft_placement = true;
  std::string out_dir;
  std::string trace_path;
  int threads = 0;
  int inter_op_threads = -1;  // -1: --threads
  int intra_op_threads = -1;  // -1: --threads
  int runs = 100;
  int warmup = 10;
  int slowest = 0;  // bench: how many of the slowest nodes to list
  int opt_level = 2;  // SessionOptions::opt_level
  int cpu_devices = 1;  // SessionOptions::num_cpu_devices
  int gpus = -1;  // SessionOptions::num_gpu_devices
};

// Returns an empty string on success, else the usage error.
std::string ParseRunFlags(const std::vector<std::string>& args, bool bench, RunFlags* flags) {
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value, error;
    auto count = [&](const char* flag, int* target, int minimum) -> std::string {
      if (!absl::SimpleAtoi(value, target) || *target < minimum) {
        return absl::StrCat(flag, " '", value, "' should be an integer >= ", minimum);
      }
      return "";
    };
    if (TakeFlag(args, &i, "--feed", &value, &error)) {
      if (!error.empty()) return error;
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        return absl::StrCat("--feed '", value, "' should be NAME=FILE.npy");
      }
      flags->feeds.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (TakeFlag(args, &i, "--fetch", &value, &error)) {
      if (!error.empty()) return error;
      flags->fetches.push_back(value);
    } else if (TakeFlag(args, &i, "--target", &value, &error)) {
      if (!error.empty()) return error;
      flags->targets.push_back(value);
    } else if (args[i] == "--log-placement") {
      flags->log_placement = true;
    } else if (args[i] == "--no-soft-placement") {
      flags->soft_placement = false;
    } else if (TakeFlag(args, &i, "--init", &value, &error)) {
      if (!error.empty()) return error;
      flags->init_targets.push_back(value);
    } else if (TakeFlag(args, &i, "--checkpoint", &value, &error)) {
      if (!error.empty()) return error;
      flags->checkpoint = value;
    } else if (!bench && TakeFlag(args, &i, "--out", &value, &error)) {
      if (!error.empty()) return error;
      flags->out_dir = value;
    } else if (!bench && TakeFlag(args, &i, "--trace", &value, &error)) {
      if (!error.empty()) return error;
      flags->trace_path = value;
    } else if (TakeFlag(args, &i, "--threads", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--threads", &flags->threads, 0); !e.empty()) return e;
    } else if (TakeFlag(args, &i, "--inter-op-threads", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--inter-op-threads", &flags->inter_op_threads, 0); !e.empty()) {
        return e;
      }
    } else if (TakeFlag(args, &i, "--intra-op-threads", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--intra-op-threads", &flags->intra_op_threads, 0); !e.empty()) {
        return e;
      }
    } else if (TakeFlag(args, &i, "--cpu-devices", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--cpu-devices", &flags->cpu_devices, 1); !e.empty()) return e;
    } else if (TakeFlag(args, &i, "--gpus", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--gpus", &flags->gpus, 0); !e.empty()) return e;
    } else if (TakeFlag(args, &i, "--opt-level", &value, &error)) {
      if (!error.empty()) return error;
      if (!absl::SimpleAtoi(value, &flags->opt_level) || flags->opt_level < 0 ||
          flags->opt_level > kMaxOptLevel) {
        return absl::StrCat("--opt-level '", value, "' should be an integer from 0 to ",
                            kMaxOptLevel);
      }
    } else if (bench && TakeFlag(args, &i, "--runs", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--runs", &flags->runs, 1); !e.empty()) return e;
    } else if (bench && TakeFlag(args, &i, "--warmup", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--warmup", &flags->warmup, 0); !e.empty()) return e;
    } else if (bench && TakeFlag(args, &i, "--slowest", &value, &error)) {
      if (!error.empty()) return error;
      if (std::string e = count("--slowest", &flags->slowest, 1); !e.empty()) return e;
    } else if (absl::StartsWith(args[i], "--")) {
      return absl::StrCat("unknown flag ", args[i]);
    } else if (flags->graph_path.empty()) {
      flags->graph_path = args[i];
    } else {
      return absl::StrCat("unexpected argument '", args[i], "'");
    }
  }
  if (flags->graph_path.empty()) return absl::StrCat("weir ", args[0], " needs a GRAPH file");
  if (flags->fetches.empty() && flags->targets.empty()) {
    return absl::StrCat("weir ", args[0], " needs at least one --fetch");
  }
  return "";
}

// Loads the graph, creates the session and reads the feeds.
absl::Status Prepare(const RunFlags& flags, std::unique_ptr<Session>* session,
                     std::vector<std::pair<std::string, Tensor>>* feeds, std::ostream& log) {
  GraphDef def;
  if (auto s = LoadGraph(flags.graph_path, &def); !s.ok()) return s;
  SessionOptions options;
  options.inter_op_threads = flags.inter_op_threads >= 0 ? flags.inter_op_threads : flags.threads;
  options.intra_op_threads = flags.intra_op_threads >= 0 ? flags.intra_op_threads : flags.threads;
  options.opt_level = flags.opt_level;
  options.allow_soft_placement = flags.soft_placement;
  options.num_cpu_devices = flags.cpu_devices;
  options.num_gpu_devices = flags.gpus;
  if (flags.log_placement) {
    options.placement_log = [&log](const std::string& line) { log << line << "\n"; };
  }
  absl::StatusOr<std::unique_ptr<Session>> created = Session::Create(def, options);
  if (!created.ok()) return created.status();
  *session = *std::move(created);
  if (!flags.init_targets.empty()) {
    std::vector<Tensor> none;
    if (auto s = (*session)->Run({}, {}, flags.init_targets, &none); !s.ok()) return s;
  }
  if (!flags.checkpoint.empty()) {
    if (auto s = RestoreVariables(**session, flags.checkpoint); !s.ok()) return s;
  }
  for (const auto& [name, file] : flags.feeds) {
    absl::StatusOr<Tensor> t = ReadNpy(file);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          absl::StrCat("feed '", name, "': ", t.status().message()));
    }
    feeds->emplace_back(name, *std::move(t));
  }
  return absl::OkStatus();
}

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  RunFlags flags;
  if (std::string e = ParseRunFlags(args, /*bench=*/false, &flags); !e.empty()) {
    return UsageError(err, e);
  }
  std::unique_ptr<Session> session;
  std::vector<std::pair<std::string, Tensor>> feeds;
  if (auto s = Prepare(flags, &session, &feeds, out); !s.ok()) return Fail(err, s);
  std::vector<Tensor> outputs;
  RunOptions run_options;
  RunMetadata metadata;
  if (!flags.trace_path.empty()) run_options.trace_level = RunOptions::kFullTrace;
  if (auto s = session->Run(run_options, feeds, flags.fetches, flags.targets, &outputs, &metadata);
      !s.ok()) {
    return Fail(err, s);
  }
  if (!flags.trace_path.empty()) {
    std::ofstream trace(flags.trace_path, std::ios::trunc);
    trace << StepStatsToChromeTrace(metadata.step_stats());
    trace.flush();
    if (!trace) {
      return Fail(err, absl::PermissionDeniedError(
                           absl::StrCat("cannot write trace '", flags.trace_path, "'")));
    }
  }
  if (!flags.out_dir.empty()) {
    struct stat st;
    if (stat(flags.out_dir.c_str(), &st) != 0 && mkdir(flags.out_dir.c_str(), 0755) != 0) {
      return Fail(err, absl::PermissionDeniedError(
                           absl::StrCat("cannot create output directory '", flags.out_dir, "'")));
    }
  }
  for (size_t k = 0; k < flags.fetches.size(); ++k) {
    out << flags.fetches[k] << ": " << Summary(outputs[k]) << "\n";
    if (!flags.out_dir.empty()) {
      std::string path = absl::StrCat(flags.out_dir, "/", FetchFileName(flags.fetches[k]));
      if (auto s = WriteNpy(path, outputs[k]); !s.ok()) return Fail(err, s);
    }
  }
  return 0;
}

// Runs a few traced steps after the timed ones (tracing costs a little per node, so it stays
// out of the timing) and lists the nodes with the largest mean kernel time.
int PrintSlowestNodes(const RunFlags& flags, Session* session,
                      const std::vector<std::pair<std::string, Tensor>>& feeds, std::ostream& out,
                      std::ostream& err) {
  const int traced_runs = std::min(flags.runs, 10);
  RunOptions options;
  options.trace_level = RunOptions::kSoftwareTrace;
  struct NodeTime {
    std::string op;
    double total_us = 0;
  };
  std::map<std::string, NodeTime> times;
  std::vector<Tensor> outputs;
  for (int i = 0; i < traced_runs; ++i) {
    RunMetadata metadata;
    if (auto s = session->Run(options, feeds, flags.fetches, flags.targets, &outputs, &metadata);
        !s.ok()) {
      return Fail(err, s);
    }
    for (const DeviceStepStats& dev : metadata.step_stats().dev_stats()) {
      for (const NodeExecStats& n : dev.node_stats()) {
        NodeTime& t = times[n.node_name()];
        t.op = n.timeline_label();
        t.total_us += (n.op_end_rel_nanos() - n.op_start_rel_nanos()) / 1000.0;
      }
    }
  }
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [name, t] : times) sorted.push_back({-t.total_us / traced_runs, name});
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < flags.slowest && i < static_cast<int>(sorted.size()); ++i) {
    char line[64];
    std::snprintf(line, sizeof(line), "%.2f", -sorted[i].first);
    out << "slowest: " << sorted[i].second << " (" << times[sorted[i].second].op
        << ") mean_us=" << line << "\n";
  }
  return 0;
}

// Compiles once (the first Run), then times `warmup` + `runs` Runs in-process, in the spirit
// of TensorFlow's benchmark_model.
int BenchCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  RunFlags flags;
  if (std::string e = ParseRunFlags(args, /*bench=*/true, &flags); !e.empty()) {
    return UsageError(err, e);
  }
  std::unique_ptr<Session> session;
  std::vector<std::pair<std::string, Tensor>> feeds;
  if (auto s = Prepare(flags, &session, &feeds, out); !s.ok()) return Fail(err, s);
  std::vector<Tensor> outputs;
  for (int i = 0; i < flags.warmup + 1; ++i) {  // +1: the first Run compiles the plan
    if (auto s = session->Run(feeds, flags.fetches, flags.targets, &outputs); !s.ok()) {
      return Fail(err, s);
    }
  }
  std::vector<double> us(flags.runs);
  for (int i = 0; i < flags.runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    absl::Status s = session->Run(feeds, flags.fetches, flags.targets, &outputs);
    us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count();
    if (!s.ok()) return Fail(err, s);
  }
  std::sort(us.begin(), us.end());
  auto percentile = [&](double p) {
    size_t index = static_cast<size_t>(p * (us.size() - 1) + 0.5);
    return us[std::min(index, us.size() - 1)];
  };
  char line[160];
  std::snprintf(line, sizeof(line), "median_us=%.2f p10_us=%.2f p90_us=%.2f runs=%d",
                percentile(0.5), percentile(0.1), percentile(0.9), flags.runs);
  out << line << "\n";
  if (flags.slowest > 0) return PrintSlowestNodes(flags, session.get(), feeds, out, err);
  return 0;
}

// The NodeDefs as written, for graphs that do not validate (unknown ops, bad edges): no dtypes
// or shapes, since those need the op registry.
int DumpUnvalidated(const std::string& path, const GraphDef& def, std::ostream& out) {
  out << "graph: " << path << " (" << def.node_size()
      << " nodes, not validated: shapes unknown)\n";
  std::map<std::string, int> histogram;
  for (const NodeDef& n : def.node()) ++histogram[n.op()];
  out << "ops:";
  for (const auto& [op, count] : histogram) out << " " << op << "=" << count;
  out << "\nnodes:\n";
  for (const NodeDef& n : def.node()) {
    out << "  " << n.name() << " = " << n.op() << "(" << absl::StrJoin(n.input(), ", ") << ")";
    if (!n.device().empty()) out << " @" << n.device();
    out << "\n";
  }
  return 0;
}

int DumpCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 2) return UsageError(err, "weir dump takes exactly one GRAPH file");
  GraphDef def;
  if (auto s = LoadGraph(args[1], &def); !s.ok()) return Fail(err, s);
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
  if (!graph.ok()) {
    // Still show what the file holds: the user wants to see the graph that does not load.
    err << "weir: warning: " << graph.status().message() << "\n";
    return DumpUnvalidated(args[1], def, out);
  }

  std::vector<Node*> nodes = (*graph)->nodes();
  out << "graph: " << args[1] << " (" << nodes.size() << " nodes, producer "
      << def.versions().producer() << ")\n";
  out << "inputs:\n";
  for (Node* n : nodes) {
    if (n->op() != "Placeholder" && n->op() != "PlaceholderWithDefault") continue;
    out << "  " << n->name() << ": " << DataTypeString(n->output_type(0)) << " "
        << n->output_shape(0).ToString() << (n->op() == "PlaceholderWithDefault" ? " (has default)" : "")
        << "\n";
  }
  out << "outputs:\n";
  for (Node* n : nodes) {
    if (!n->out_edges().empty() || n->num_outputs() == 0) continue;
    std::vector<std::string> shapes;
    for (int i = 0; i < n->num_outputs(); ++i) {
      shapes.push_back(absl::StrCat(DataTypeString(n->output_type(i)), " ", n->output_shape(i).ToString()));
    }
    out << "  " << n->name() << " (" << n->op() << "): " << absl::StrJoin(shapes, ", ") << "\n";
  }
  std::map<std::string, int> histogram;
  int64_t parameters = 0;
  for (Node* n : nodes) {
    ++histogram[n->op()];
    if (n->op() == "Const" && DataTypeIsFloating(n->output_type(0))) {
      int64_t count = n->output_shape(0).num_elements();
      if (count > 0) parameters += count;
    }
  }
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [op, count] : histogram) sorted.push_back({-count, op});
  std::sort(sorted.begin(), sorted.end());
  out << "ops:";
  for (const auto& [neg, op] : sorted) out << " " << op << "=" << -neg;
  out << "\nparameters: " << parameters << " (elements of floating-point Const nodes)\n";
  out << "nodes:\n";
  for (Node* n : nodes) {
    NodeDef nd = NodeToNodeDef(*n);
    std::vector<std::string> shapes;
    for (int i = 0; i < n->num_outputs(); ++i) {
      shapes.push_back(absl::StrCat(DataTypeString(n->output_type(i)), n->output_shape(i).ToString()));
    }
    out << "  " << n->name() << " = " << n->op() << "(" << absl::StrJoin(nd.input(), ", ") << ")";
    if (!n->requested_device().empty()) out << " @" << n->requested_device();
    out << " -> " << (shapes.empty() ? "()" : absl::StrJoin(shapes, ", ")) << "\n";
  }
  return 0;
}

}  // namespace

std::string FetchFileName(const std::string& fetch) {
  std::string name = fetch;
  for (char& c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return name + ".npy";
}

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage << kOptUsage << kTrainUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "run") return RunCommand(args, out, err);
  if (args[0] == "dump") return DumpCommand(args, out, err);
  if (args[0] == "bench") return BenchCommand(args, out, err);
  if (args[0] == "opt") return OptCommand(args, out, err);
  if (args[0] == "train") return TrainCommand(args, out, err);
  if (args[0] == "compile-bench") return CompileBenchCommand(args, out, err);
  return UsageError(err, absl::StrCat("unknown command '", args[0], "'"));
}

}  // namespace weir
