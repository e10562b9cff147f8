// models_test.cc - Real TensorFlow models (tests/models/<name>/, frozen by
// tools/tf_models/make_models.py) run through a Session and through `weir run`, against
// TensorFlow's own outputs.
//
// Error measure: max |weir - tf| / max |tf| over each fetched tensor (relative to the output's
// scale, so a near-zero element cannot blow it up). Tolerances, per model, in kModels below:
// 1e-4 for every model except the deepest network, MobileNetV2 (52 conv layers, depthwise convs
// and random-init BatchNorm scales in between), at 1e-3: float32 accumulation order differs
// between oneDNN and TensorFlow's Eigen kernels and the difference compounds with depth. The
// errors seen when the test was written are far below both (a few 1e-7), see tests/models/README.md.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "graph/graph_io.h"
#include "runtime/session.h"
#include "tools/cli.h"
#include "tools/npy.h"

namespace weir {
namespace {

constexpr char kModelsDir[] = "tests/models";

struct ModelSpec {
  double rtol;
  const char* why;
};

// Every folder under tests/models must be listed here (the test fails on a folder it does not
// know, so a new model cannot be skipped silently).
const std::map<std::string, ModelSpec>& Models() {
  static const auto* models = new std::map<std::string, ModelSpec>{
      {"mobilenet_v2", {1e-3, "deepest net: 52 conv layers, accumulation order compounds"}},
      {"resnet_small", {1e-4, "13 conv layers with BatchNorm and skips"}},
      {"bert_encoder", {1e-4, "2 encoder layers: LayerNorm, Erf GELU, attention"}},
      {"cond_v1", {1e-4, "Switch/Merge, both branches"}},
      {"lstm", {1e-4, "dynamic_rnn: while loop with TensorArray ops, 8 steps"}},
      {"assert_v1", {1e-6, "asserts in AssertGuard Switch/Merge, string data; x * 2"}},
      {"assert_v2", {1e-6, "asserts in AssertGuard If functions, string data; x * 2"}},
  };
  return *models;
}

// A case whose run TensorFlow failed (an Assert): fetching `fetch` must fail at a node whose
// name starts with `node` (the Assert, or the If it was lowered from), with TensorFlow's message.
struct ExpectedError {
  std::string fetch;
  std::string node;
  std::string message;
};

struct Case {
  std::string id;
  std::vector<std::pair<std::string, std::string>> feeds;    // node, .npy file
  std::vector<std::pair<std::string, std::string>> fetches;  // node, TensorFlow's output
  std::vector<ExpectedError> errors;  // at most one; "error <fetch> <node> <message>" lines
};

std::vector<Case> ReadManifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.txt");
  REQUIRE(in.good());
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind, node, file;
    fields >> kind >> node;
    if (kind == "case") {
      cases.push_back({node, {}, {}, {}});
      continue;
    }
    fields >> file;
    INFO(dir << "/manifest.txt: " << line);
    REQUIRE(!cases.empty());
    if (kind == "error") {
      ExpectedError error{node, file, ""};
      std::getline(fields >> std::ws, error.message);
      REQUIRE(!error.message.empty());
      cases.back().errors.push_back(error);
      continue;
    }
    REQUIRE((kind == "feed" || kind == "fetch"));
    (kind == "feed" ? cases.back().feeds : cases.back().fetches)
        .emplace_back(node, dir + "/" + file);
  }
  return cases;
}

Tensor LoadNpy(const std::string& path) {
  auto t = ReadNpy(path);
  INFO(path << ": " << t.status().message());
  REQUIRE(t.ok());
  return *std::move(t);
}

// max |got - want| / max |want|, after checking dtype and shape; float32 only (every fetch of
// these models is float32).
double RelativeError(const Tensor& got, const Tensor& want) {
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.dtype() == DT_FLOAT);
  REQUIRE(got.shape().ToString() == want.shape().ToString());
  double max_diff = 0, scale = 1e-30;
  for (int64_t k = 0; k < want.num_elements(); ++k) {
    double g = got.data<float>()[k], w = want.data<float>()[k];
    REQUIRE(std::isfinite(g));
    max_diff = std::max(max_diff, std::abs(g - w));
    scale = std::max(scale, std::abs(w));
  }
  return max_diff / scale;
}

std::vector<std::string> ModelFolders() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kModelsDir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("every model folder is known and every known model has a folder") {
  std::vector<std::string> folders = ModelFolders();
  for (const std::string& name : folders) {
    INFO("tests/models/" << name << " has no entry in models_test.cc's table");
    CHECK(Models().count(name) == 1);
  }
  for (const auto& [name, spec] : Models()) {
    INFO("model " << name << " is listed but tests/models/" << name << " is missing");
    CHECK(std::count(folders.begin(), folders.end(), name) == 1);
  }
}

TEST_CASE("real TensorFlow models run through a Session match TensorFlow's outputs") {
  for (const std::string& name : ModelFolders()) {
    if (!Models().count(name)) continue;
    const ModelSpec& spec = Models().at(name);
    const std::string dir = std::string(kModelsDir) + "/" + name;
    GraphDef def;
    absl::Status read = ReadGraphDef(dir + "/model.pb", &def);
    INFO(name << ": " << read.message());
    REQUIRE(read.ok());
    SessionOptions options;
    options.inter_op_threads = 2;
    auto session = Session::Create(def, options);
    INFO(name << ": " << session.status().message());
    REQUIRE(session.ok());
    const std::vector<Case> cases = ReadManifest(dir);
    for (const Case& c : cases) {
      std::vector<std::pair<std::string, Tensor>> feeds;
      for (const auto& [node, file] : c.feeds) feeds.emplace_back(node, LoadNpy(file));
      for (const ExpectedError& want : c.errors) {
        for (int run = 0; run < 2; ++run) {
          std::vector<Tensor> outputs;
          absl::Status st = (*session)->Run(feeds, {want.fetch}, {}, &outputs);
          INFO(name << " case " << c.id << " run " << run << ": " << st.message());
          REQUIRE_FALSE(st.ok());
          CHECK(absl::IsInvalidArgument(st));
          const std::string message(st.message());
          CHECK(message.find("node '" + want.node) != std::string::npos);
          CHECK(message.find("(Assert): " + want.message) != std::string::npos);
          if (run == 0) {
            std::printf("%-14s case %s fails as in TensorFlow: %s\n", name.c_str(), c.id.c_str(),
                        message.c_str());
          }
        }
        // The failed step leaves the session usable.
        if (!cases.front().fetches.empty()) {
          std::vector<std::pair<std::string, Tensor>> first_feeds;
          for (const auto& [node, file] : cases.front().feeds) {
            first_feeds.emplace_back(node, LoadNpy(file));
          }
          std::vector<Tensor> outputs;
          absl::Status st = (*session)->Run(first_feeds, {cases.front().fetches[0].first}, {},
                                            &outputs);
          INFO(name << " case " << cases.front().id << " after the failure: " << st.message());
          CHECK(st.ok());
        }
      }
      if (c.fetches.empty()) continue;
      std::vector<std::string> fetch_names;
      for (const auto& [node, file] : c.fetches) fetch_names.push_back(node);
      // Twice: the second run goes through the cached plan and reused buffers.
      for (int run = 0; run < 2; ++run) {
        std::vector<Tensor> outputs;
        absl::Status st = (*session)->Run(feeds, fetch_names, {}, &outputs);
        INFO(name << " case " << c.id << " run " << run << ": " << st.message());
        REQUIRE(st.ok());
        REQUIRE(outputs.size() == c.fetches.size());
        for (size_t k = 0; k < outputs.size(); ++k) {
          double err = RelativeError(outputs[k], LoadNpy(c.fetches[k].second));
          if (run == 0) {
            std::printf("%-14s case %s %-10s max relative error %.2e (tolerance %.0e: %s)\n",
                        name.c_str(), c.id.c_str(), c.fetches[k].first.c_str(), err, spec.rtol,
                        spec.why);
          }
          INFO(name << " case " << c.id << " fetch " << c.fetches[k].first);
          CHECK(err <= spec.rtol);
        }
      }
    }
  }
}

// The compiler must not change what a model computes: levels 0 (prune only), 1 and 3 against
// TensorFlow's outputs too (the test above runs the default, 2).
TEST_CASE("real TensorFlow models match TensorFlow at every optimization level") {
  for (const std::string& name : ModelFolders()) {
    if (!Models().count(name)) continue;
    const ModelSpec& spec = Models().at(name);
    const std::string dir = std::string(kModelsDir) + "/" + name;
    GraphDef def;
    REQUIRE(ReadGraphDef(dir + "/model.pb", &def).ok());
    for (int level : {0, 1, 3}) {
      SessionOptions options;
      options.opt_level = level;
      auto session = Session::Create(def, options);
      INFO(name << " level " << level << ": " << session.status().message());
      REQUIRE(session.ok());
      for (const Case& c : ReadManifest(dir)) {
        if (c.fetches.empty()) continue;
        std::vector<std::pair<std::string, Tensor>> feeds;
        for (const auto& [node, file] : c.feeds) feeds.emplace_back(node, LoadNpy(file));
        std::vector<std::string> fetch_names;
        for (const auto& [node, file] : c.fetches) fetch_names.push_back(node);
        std::vector<Tensor> outputs;
        absl::Status st = (*session)->Run(feeds, fetch_names, {}, &outputs);
        INFO(name << " level " << level << " case " << c.id << ": " << st.message());
        REQUIRE(st.ok());
        for (size_t k = 0; k < outputs.size(); ++k) {
          INFO("fetch " << c.fetches[k].first);
          CHECK(RelativeError(outputs[k], LoadNpy(c.fetches[k].second)) <= spec.rtol);
        }
      }
    }
  }
}

TEST_CASE("real TensorFlow models give the same outputs from concurrent Run calls") {
  // Per-step state (loop frames, TensorArrays, dead branches) must not leak between steps.
  for (const std::string name : {"cond_v1", "lstm", "bert_encoder"}) {
    const std::string dir = std::string(kModelsDir) + "/" + name;
    if (!std::filesystem::exists(dir)) continue;
    GraphDef def;
    REQUIRE(ReadGraphDef(dir + "/model.pb", &def).ok());
    auto session = Session::Create(def);
    REQUIRE(session.ok());
    std::vector<Case> cases = ReadManifest(dir);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 10; ++i) {
          const Case& c = cases[(t + i) % cases.size()];
          std::vector<std::pair<std::string, Tensor>> feeds;
          for (const auto& [node, file] : c.feeds) feeds.emplace_back(node, *ReadNpy(file));
          std::vector<std::string> fetch_names;
          for (const auto& [node, file] : c.fetches) fetch_names.push_back(node);
          std::vector<Tensor> outputs;
          if (!(*session)->Run(feeds, fetch_names, {}, &outputs).ok()) {
            ++failures;
            continue;
          }
          for (size_t k = 0; k < outputs.size(); ++k) {
            Tensor want = *ReadNpy(c.fetches[k].second);
            bool same = outputs[k].num_elements() == want.num_elements();
            for (int64_t e = 0; same && e < want.num_elements(); ++e) {
              same = std::abs(outputs[k].data<float>()[e] - want.data<float>()[e]) <=
                     1e-4 * (std::abs(want.data<float>()[e]) + 1);
            }
            if (!same) ++failures;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    INFO(name);
    CHECK(failures == 0);
  }
}

TEST_CASE("weir run and weir dump work on the real models") {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string out_dir = std::string(tmp ? tmp : "/tmp") + "/models_test_out";
  for (const std::string& name : ModelFolders()) {
    if (!Models().count(name)) continue;
    const std::string dir = std::string(kModelsDir) + "/" + name;
    {
      std::ostringstream out, err;
      int rc = RunCli({"dump", dir + "/model.pb"}, out, err);
      INFO(name << ": " << err.str());
      CHECK(rc == 0);
      CHECK(out.str().find("Placeholder") != std::string::npos);
    }
    const std::vector<Case> cases = ReadManifest(dir);
    const Case& c = cases.front();
    std::vector<std::string> args = {"run", dir + "/model.pb", "--out", out_dir};
    for (const auto& [node, file] : c.feeds) {
      args.insert(args.end(), {"--feed", node + "=" + file});
    }
    for (const auto& [node, file] : c.fetches) args.insert(args.end(), {"--fetch", node});
    std::ostringstream out, err;
    int rc = RunCli(args, out, err);
    INFO(name << ": " << err.str());
    REQUIRE(rc == 0);
    for (const auto& [node, file] : c.fetches) {
      Tensor got = LoadNpy(out_dir + "/" + FetchFileName(node));
      INFO(name << " fetch " << node);
      CHECK(RelativeError(got, LoadNpy(file)) <= Models().at(name).rtol);
    }
  }
}

}  // namespace
}  // namespace weir
