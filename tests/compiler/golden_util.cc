// golden_util.cc - Golden-file driver and output-equivalence check for pass tests.
#include "tests/compiler/golden_util.h"

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

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
#include "runtime/session.h"

namespace weir {
namespace testing {

std::vector<std::string> GoldenFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      std::string name = entry->d_name;
      if (absl::EndsWith(name, ".pbtxt")) files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<GoldenResult> RunGoldenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string content = buffer.str();
  GoldenResult result;
  if (auto s = ParseGraphDef(content, /*text=*/true, &result.input); !s.ok()) return s;

  OptimizeOptions options;
  options.pipeline.verify = true;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "#")) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "RUN:")) {
      std::vector<std::string> args = absl::StrSplit(line, ' ', absl::SkipEmpty());
      for (size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--passes") {
          options.passes = absl::StrSplit(args[i + 1], ',', absl::SkipEmpty());
        } else if (args[i] == "--level") {
          if (!absl::SimpleAtoi(args[i + 1], &options.opt_level)) {
            return absl::InvalidArgumentError(absl::StrCat(path, ": bad --level"));
          }
        } else if (args[i] == "--keep") {
          options.keep.push_back(args[i + 1]);
        } else {
          return absl::InvalidArgumentError(absl::StrCat(path, ": unknown RUN flag ", args[i]));
        }
      }
    }
  }
  absl::StatusOr<GraphDef> optimized = OptimizeGraphDef(result.input, options);
  if (!optimized.ok()) return optimized.status();
  result.output = *std::move(optimized);
  result.text = CompactGraphText(result.output);
  if (auto s = CheckDirectives(path, content, result.text); !s.ok()) return s;
  return result;
}

absl::Status CheckDirectives(const std::string& path, absl::string_view content,
                             const std::string& text) {
  std::vector<std::pair<std::string, std::string>> checks;  // directive, pattern
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "#")) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    for (const char* directive : {"CHECK-NOT:", "CHECK:"}) {
      if (absl::ConsumePrefix(&line, directive)) {
        checks.emplace_back(directive, std::string(absl::StripAsciiWhitespace(line)));
        break;
      }
    }
  }
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  size_t next = 0;
  for (const auto& [directive, pattern] : checks) {
    if (directive == "CHECK-NOT:") {
      for (const std::string& l : lines) {
        if (absl::StrContains(l, pattern)) {
          return absl::FailedPreconditionError(absl::StrCat(
              path, ": CHECK-NOT: ", pattern, " found on line '", l, "' in\n", text));
        }
      }
      continue;
    }
    while (next < lines.size() && !absl::StrContains(lines[next], pattern)) ++next;
    if (next == lines.size()) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": CHECK: ", pattern,
                                                        " not found (in order) in\n", text));
    }
    ++next;
  }
  return absl::OkStatus();
}

namespace {

Tensor RandomTensor(DataType dtype, const TensorShape& shape, std::mt19937& rng) {
  Tensor t(dtype, shape);
  std::uniform_real_distribution<double> real(-2.0, 2.0);
  std::uniform_int_distribution<int> small(1, 4);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    switch (dtype) {
      case DT_FLOAT: t.data<float>()[i] = static_cast<float>(real(rng)); break;
      case DT_DOUBLE: t.data<double>()[i] = real(rng); break;
      case DT_INT32: t.data<int32_t>()[i] = small(rng); break;
      case DT_INT64: t.data<int64_t>()[i] = small(rng); break;
      case DT_BOOL: t.data<bool>()[i] = small(rng) > 2; break;
      default: break;
    }
  }
  return t;
}

absl::Status RunGraph(const GraphDef& graph,
                      const std::vector<std::pair<std::string, Tensor>>& feeds,
                      const std::vector<std::string>& fetches, std::vector<Tensor>* out) {
  SessionOptions options;
  options.opt_level = 0;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(graph, options);
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds, fetches, {}, out);
}

double AsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DT_FLOAT: return t.data<float>()[i];
    case DT_DOUBLE: return t.data<double>()[i];
    case DT_INT32: return t.data<int32_t>()[i];
    case DT_INT64: return static_cast<double>(t.data<int64_t>()[i]);
    case DT_BOOL: return t.data<bool>()[i];
    case DT_UINT8: return t.data<uint8_t>()[i];
    default: return NAN;
  }
}

}  // namespace

absl::Status CheckSameOutputs(const GraphDef& original, const GraphDef& optimized,
                              unsigned seed) {
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(original);
  if (!graph.ok()) return graph.status();
  for (const Node* node : (*graph)->nodes()) {
    // Two sessions draw different random numbers: nothing to compare.
    if (absl::StartsWith(node->op(), "Random") || node->op() == "TruncatedNormal") {
      return absl::OkStatus();
    }
  }
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::vector<std::string> fetches;
  for (const Node* node : (*graph)->nodes()) {
    if (node->op() == "Placeholder") {
      std::vector<int64_t> dims;
      const PartialShape& shape = node->output_shape(0);
      for (int i = 0; shape.known_rank() && i < shape.rank(); ++i) {
        dims.push_back(shape.dim(i) < 0 ? 3 : shape.dim(i));
      }
      feeds.emplace_back(node->name(),
                         RandomTensor(node->output_type(0), TensorShape(dims), rng));
    }
    if (node->out_edges().empty()) {
      for (int i = 0; i < node->num_outputs(); ++i) fetches.push_back(absl::StrCat(node->name(), ":", i));
    }
  }
  if (fetches.empty()) return absl::OkStatus();
  std::vector<Tensor> want, got;
  if (auto s = RunGraph(original, feeds, fetches, &want); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("original graph: ", s.message()));
  }
  if (auto s = RunGraph(optimized, feeds, fetches, &got); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("optimized graph: ", s.message()));
  }
  for (size_t k = 0; k < fetches.size(); ++k) {
    if (want[k].dtype() != got[k].dtype() || want[k].shape() != got[k].shape()) {
      return absl::InternalError(absl::StrCat(
          fetches[k], ": optimized gives ", DataTypeString(got[k].dtype()), " ",
          got[k].shape().ToString(), ", original ", DataTypeString(want[k].dtype()), " ",
          want[k].shape().ToString()));
    }
    for (int64_t i = 0; i < want[k].num_elements(); ++i) {
      const double a = AsDouble(got[k], i), b = AsDouble(want[k], i);
      if (!(std::fabs(a - b) <= 1e-5 * std::max(1.0, std::fabs(b))) && !(std::isnan(a) && std::isnan(b))) {
        return absl::InternalError(absl::StrCat(fetches[k], "[", i, "]: optimized ", a,
                                                ", original ", b));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckGoldenFolder(const std::string& dir, size_t min_files) {
  const std::vector<std::string> files = GoldenFiles(dir);
  if (files.size() < min_files) {
    return absl::NotFoundError(absl::StrCat(dir, " holds ", files.size(),
                                            " golden files, expected at least ", min_files));
  }
  for (const std::string& file : files) {
    absl::StatusOr<GoldenResult> result = RunGoldenFile(file);
    if (!result.ok()) return absl::Status(result.status().code(), absl::StrCat(file, ": ", result.status().message()));
    absl::Status same = CheckSameOutputs(result->input, result->output);
    if (!same.ok()) return absl::Status(same.code(), absl::StrCat(file, ": ", same.message()));
  }
  return absl::OkStatus();
}

}  // namespace testing
}  // namespace weir
