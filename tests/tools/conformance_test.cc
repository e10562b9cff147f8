// conformance_test.cc - Runs every case in ../shared/conformance/tf/ (real TensorFlow graphs
// with expected outputs that nobody on this project wrote) through `weir run`, and reports
// passed/total per source.
//
// A case is in scope when every op of its graph has a CPU kernel; binding in-scope cases must
// pass (see the conformance README for which bind). Out-of-scope cases are reported, not
// failed: they become binding automatically as the op library grows. The CPU run uses
// --gpus 0; on a machine with a GPU a second run (--gpus 1) must pass too, and everywhere every
// graph must place and partition with a (stand-in) GPU present.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "compiler/partition.h"
#include "compiler/passes/elementwise_chain.h"
#include "compiler/placement.h"
#include "graph/convert.h"
#include "graph/graph_io.h"
#include "graph/op_registry.h"
#include "kernels/registry.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "tools/cli.h"
#include "tools/npy.h"

namespace weir {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string ConformanceDir() {
  if (const char* env = std::getenv("WEIR_CONFORMANCE_DIR")) return env;
  return "../shared/conformance/tf";
}

std::vector<std::string> ListDirs(const std::string& path) {
  std::vector<std::string> out;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(name);
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "";
  if (it->second.kind_case() == Value::kStringValue) return it->second.string_value();
  if (it->second.kind_case() == Value::kNumberValue) return absl::StrCat(it->second.number_value());
  return "";
}

struct Tolerance {
  double rel = 1e-4;
  double abs = 1e-5;
};

Tolerance ParseTolerance(const Struct& manifest) {
  Tolerance t;
  auto it = manifest.fields().find("tolerance");
  if (it == manifest.fields().end()) return t;
  if (it->second.kind_case() == Value::kNumberValue) {
    t.rel = t.abs = it->second.number_value();
  } else if (absl::StrContains(it->second.string_value(), "exact")) {
    t.rel = t.abs = 0;
  } else if (absl::StrContains(it->second.string_value(), "1e-5")) {
    t.rel = t.abs = 1e-5;
  }
  return t;
}

double ValueAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DT_FLOAT: return t.data<float>()[i];
    case DT_DOUBLE: return t.data<double>()[i];
    case DT_INT32: return t.data<int32_t>()[i];
    case DT_INT64: return static_cast<double>(t.data<int64_t>()[i]);
    case DT_UINT8: return t.data<uint8_t>()[i];
    case DT_BOOL: return t.data<bool>()[i] ? 1 : 0;
    default: return NAN;
  }
}

// Empty when equal within tolerance, else what differs.
std::string Compare(const Tensor& actual, const Tensor& expected, const Tolerance& tol) {
  if (actual.num_elements() != expected.num_elements()) {
    return absl::StrCat("has ", actual.num_elements(), " elements ", actual.shape().ToString(),
                        ", expected ", expected.num_elements(), " ", expected.shape().ToString());
  }
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    double a = ValueAt(actual, i), e = ValueAt(expected, i);
    if (a == e || (std::isnan(e) && std::isnan(a))) continue;  // also equal infinities
    if (!(std::fabs(a - e) <= tol.abs + tol.rel * std::fabs(e))) {
      return absl::StrCat("element ", i, " is ", a, ", expected ", e);
    }
  }
  return "";
}

// Whether every op in the graph (and its function library) is registered with a CPU kernel.
bool InScope(const GraphDef& def, std::set<std::string>* missing) {
  std::vector<std::string> cpu_ops = DefaultKernelRegistry().Ops(kDeviceCpu);
  std::set<std::string> have(cpu_ops.begin(), cpu_ops.end());
  for (const NodeDef& n : def.node()) {
    if (!have.count(n.op())) missing->insert(n.op());
  }
  return missing->empty();
}

struct CaseResult {
  bool in_scope = false;
  bool binding = false;
  bool passed = false;
  std::string detail;
};

// `gpus` is weir run's --gpus: 0 keeps the case on the CPU; 1 puts what has GPU kernels on the
// GPU, where float results are held to at least 1e-4 relative (1e-5 absolute) instead of the
// manifest's tolerance when that is tighter.
CaseResult RunCase(const std::string& source, const std::string& dir, const Struct& manifest,
                   int gpus) {
  CaseResult result;
  std::string category = Field(manifest, "category");
  result.binding = source != "armnn_tfparser" || category == "tfjs_agrees" ||
                   category == "tfjs_agrees_nchw";
  std::string graph_path = dir + "/graph.pb";
  GraphDef def;
  if (!ReadGraphDef(graph_path, &def).ok()) {
    result.detail = "cannot read graph.pb";
    return result;
  }
  std::set<std::string> missing;
  result.in_scope = InScope(def, &missing);
  if (!result.in_scope) {
    result.detail = absl::StrCat("ops without CPU kernels: ", absl::StrJoin(missing, ", "));
    return result;
  }

  // Test sets: the case folder itself, or test_data_set*/ subfolders.
  std::vector<std::string> sets;
  for (const std::string& sub : ListDirs(dir)) {
    if (absl::StartsWith(sub, "test_data_set")) sets.push_back(dir + "/" + sub);
  }
  if (sets.empty()) sets.push_back(dir);

  const auto& inputs = manifest.fields().at("inputs").list_value();
  const auto& outputs = manifest.fields().at("outputs").list_value();
  const Tolerance tol = ParseTolerance(manifest);
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string out_dir = absl::StrCat(tmp ? tmp : "/tmp", "/conformance_out");
  mkdir(out_dir.c_str(), 0755);

  for (const std::string& set : sets) {
    std::vector<std::string> args = {"run", graph_path, "--out", out_dir, "--gpus",
                                     std::to_string(gpus)};
    for (int i = 0; i < inputs.values_size(); ++i) {
      const Struct& in = inputs.values(i).struct_value();
      std::string file = Field(in, "file");
      if (file.empty()) file = absl::StrCat("input_", i, ".npy");
      args.push_back("--feed");
      args.push_back(absl::StrCat(Field(in, "name"), "=", set, "/", file));
    }
    for (int i = 0; i < outputs.values_size(); ++i) {
      args.push_back("--fetch");
      args.push_back(Field(outputs.values(i).struct_value(), "name"));
    }
    std::ostringstream out, err;
    int rc = RunCli(args, out, err);
    if (rc != 0) {
      result.detail = absl::StrCat("weir run failed: ", err.str());
      return result;
    }
    for (int i = 0; i < outputs.values_size(); ++i) {
      const Struct& o = outputs.values(i).struct_value();
      std::string file = Field(o, "file");
      if (file.empty()) file = absl::StrCat("output_", i, ".npy");
      absl::StatusOr<Tensor> expected = ReadNpy(set + "/" + file);
      absl::StatusOr<Tensor> actual = ReadNpy(out_dir + "/" + FetchFileName(Field(o, "name")));
      if (!expected.ok() || !actual.ok()) {
        result.detail = absl::StrCat("cannot read output ", i);
        return result;
      }
      // On the GPU, float results are held to what the GPU conformance suite holds its
      // accumulating ops to (1e-4 relative), not to exactness; integers stay exact.
      Tolerance t = tol;
      if (gpus > 0 && (expected->dtype() == DT_FLOAT || expected->dtype() == DT_DOUBLE)) {
        t.rel = std::max(t.rel, 1e-4);
        t.abs = std::max(t.abs, 1e-5);
      }
      std::string diff = Compare(*actual, *expected, t);
      if (!diff.empty()) {
        result.detail = absl::StrCat(Field(o, "name"), " ", diff);
        return result;
      }
    }
  }
  result.passed = true;
  return result;
}

// Runs every case with expectations under `root` through `weir run --gpus <gpus>`, printing
// "<label> <source> passed/total ..." per source and the failures; returns the number of binding
// in-scope failures and sets *in_scope_total.
int RunAllCases(const std::string& root, int gpus, const char* label, int* in_scope_total) {
  int binding_failures = 0;
  *in_scope_total = 0;
  for (const std::string& source : ListDirs(root)) {
    int total = 0, passed = 0, in_scope = 0;
    std::vector<std::string> failures;
    for (const std::string& name : ListDirs(root + "/" + source)) {
      std::string dir = root + "/" + source + "/" + name;
      std::ifstream in(dir + "/manifest.json");
      if (!in) continue;
      std::stringstream text;
      text << in.rdbuf();
      Struct manifest;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      if (!google::protobuf::util::JsonStringToMessage(text.str(), &manifest, options).ok()) {
        failures.push_back(name + ": unreadable manifest.json");
        continue;
      }
      // Cases without expected values (output files) have nothing to check.
      bool has_expected = FileExists(dir + "/output_0.npy") ||
                          FileExists(dir + "/test_data_set0/output_0.npy");
      if (!manifest.fields().count("outputs") || !manifest.fields().count("inputs") ||
          manifest.fields().at("outputs").list_value().values_size() == 0 ||
          !FileExists(dir + "/graph.pb") || !has_expected) {
        continue;  // no expectations to check
      }
      ++total;
      CaseResult r = RunCase(source, dir, manifest, gpus);
      in_scope += r.in_scope;
      passed += r.passed;
      if (r.in_scope && !r.passed) {
        std::string tag = r.binding ? "FAIL" : "differs (not binding)";
        failures.push_back(absl::StrCat(name, ": ", tag, ": ", r.detail));
        if (r.binding) ++binding_failures;
      }
    }
    *in_scope_total += in_scope;
    std::printf("%s %-18s %d/%d passed (%d with every op supported)\n", label, source.c_str(),
                passed, total, in_scope);
    for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
  }
  std::fflush(stdout);
  return binding_failures;
}

TEST_CASE("conformance cases from real TensorFlow graphs") {
  const std::string root = ConformanceDir();
  if (ListDirs(root).empty()) {
    WARN("no conformance cases at " << root << " (set WEIR_CONFORMANCE_DIR); skipped");
    return;
  }
  int in_scope = 0;
  const int binding_failures = RunAllCases(root, /*gpus=*/0, "conformance", &in_scope);
  CHECK(in_scope > 0);
  CHECK(binding_failures == 0);
}

// The same cases with a GPU present: placement puts every node that has a GPU kernel there, so
// real graphs exercise the GPU kernels, the copies between devices and the partitioning.
TEST_CASE("conformance cases on the GPU") {
  if (GpuDeviceCount() == 0) {
    WARN("SKIPPED: no GPU");
    return;
  }
  const std::string root = ConformanceDir();
  if (ListDirs(root).empty()) {
    WARN("SKIPPED: no conformance cases at " << root << " (set WEIR_CONFORMANCE_DIR)");
    return;
  }
  int in_scope = 0;
  const int binding_failures = RunAllCases(root, /*gpus=*/1, "conformance-gpu", &in_scope);
  CHECK(in_scope > 0);
  CHECK(binding_failures == 0);
}

// Without a GPU: every conformance graph can be placed with a GPU present (a stand-in device:
// placement only asks the kernel registry) and partitioned, so a GPU machine does not refuse a
// graph the CPU runs. (A TF1 while loop split across devices was refused until placement kept
// control flow on one device.)
TEST_CASE("conformance graphs place and partition with a GPU present") {
  if (DefaultKernelRegistry().Ops(kDeviceGpu).empty()) {
    WARN("no GPU kernels registered (a build without CUDA): nothing to check");
    return;
  }
  class StandInGpu : public Device {
   public:
    StandInGpu() : Device("/device:GPU:0", kDeviceGpu) {}
    Allocator* allocator() override { return CpuAllocator::Get(); }
    int intra_op_threads() const override { return 1; }
  };
  const std::string root = ConformanceDir();
  int graphs = 0, multi_device = 0, chain_nodes = 0;
  for (const std::string& source : ListDirs(root)) {
    for (const std::string& name : ListDirs(root + "/" + source)) {
      const std::string path = root + "/" + source + "/" + name + "/graph.pb";
      GraphDef def;
      if (!FileExists(path) || !ReadGraphDef(path, &def).ok()) continue;
      std::set<std::string> missing;
      if (!InScope(def, &missing)) continue;
      absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
      if (!graph.ok()) continue;  // the CPU run reports graphs that do not load
      INFO(source << "/" << name);
      StandInGpu gpu;
      CpuDevice cpu(1);
      absl::Status placed = PlaceNodes(**graph, {&gpu, &cpu}, DefaultKernelRegistry());
      INFO(placed.ToString());
      CHECK(placed.ok());
      if (!placed.ok()) continue;
      // As a GPU session does next: fuse elementwise chains on the GPU. The result must still
      // load (registry, shapes) and partition.
      ElementwiseChainOptions chains;
      chains.device = gpu.name();
      chains.arity = GpuElementwiseChainArity;
      absl::StatusOr<int> fused = FuseElementwiseChains(**graph, chains);
      INFO(fused.status().ToString());
      CHECK(fused.ok());
      if (fused.ok()) chain_nodes += *fused;
      absl::StatusOr<std::unique_ptr<Graph>> reloaded = GraphFromGraphDef(GraphToGraphDef(**graph));
      INFO(reloaded.status().ToString());
      CHECK(reloaded.ok());
      absl::StatusOr<std::vector<GraphPartition>> parts = PartitionGraph(**graph);
      INFO(parts.status().ToString());
      CHECK(parts.ok());
      ++graphs;
      if (parts.ok() && parts->size() > 1) ++multi_device;
    }
  }
  WARN(graphs << " conformance graphs placed with a GPU, " << multi_device
              << " of them on both devices, " << chain_nodes << " elementwise chains fused");
  if (!ListDirs(root).empty()) CHECK(graphs > 0);
}

}  // namespace
}  // namespace weir
