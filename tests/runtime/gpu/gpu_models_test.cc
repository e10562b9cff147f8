// gpu_models_test.cc - Real TensorFlow models on a GPU session, several steps in one session:
// the tf2onnx conformance graphs (an MLP, an autoencoder, a linear regression and unrolled
// LSTM and GRU cells, frozen by TensorFlow) from WEIR_CONFORMANCE_DIR (../shared/conformance/tf;
// tools/gpu_check.sh's bundle carries them). Each runs four times with its recorded inputs --
// the warm-up, the CUDA-graph capture and two replays where the plan allows one -- and every
// result must match the recorded output (1e-4 relative, 1e-5 absolute) and a CPU-only
// session's. What ran where is printed: GPU nodes, graphs captured, direct plans.
//
// Without a GPU (or without the cases) each case says "SKIPPED: ..." and passes.
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "graph/graph_io.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "tests/runtime/gpu/gpu_session_util.h"
#include "tools/npy.h"

namespace weir {
namespace {

using google::protobuf::Struct;

std::string CasesDir() {
  const char* env = std::getenv("WEIR_CONFORMANCE_DIR");
  return absl::StrCat(env != nullptr ? env : "../shared/conformance/tf", "/tf2onnx");
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string StringField(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

// Largest |got - want| beyond 1e-5 + 1e-4 |want| (0 when within), or +inf when shapes or dtypes
// differ.
double Excess(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DT_FLOAT || want.dtype() != DT_FLOAT ||
      got.num_elements() != want.num_elements()) {
    return INFINITY;
  }
  double worst = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<float>()[i], w = want.data<float>()[i];
    const double excess = std::fabs(g - w) - (1e-5 + 1e-4 * std::fabs(w));
    if (!(excess <= worst)) worst = std::isnan(excess) ? INFINITY : excess;
  }
  return worst;
}

TEST_CASE("GPU models: the tf2onnx graphs match their recorded outputs over several steps") {
  SKIP_WITHOUT_GPU();
  const std::string root = CasesDir();
  if (!Exists(root)) {
    WARN("SKIPPED: no conformance cases at " << root << " (set WEIR_CONFORMANCE_DIR)");
    return;
  }
  int ran = 0;
  for (const char* name : {"fc-layers", "ae0", "regression", "lstm", "gru"}) {
    const std::string dir = absl::StrCat(root, "/", name);
    INFO("model " << name);
    std::ifstream in(dir + "/manifest.json");
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    Struct manifest;
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = true;
    REQUIRE(google::protobuf::util::JsonStringToMessage(text.str(), &manifest, parse).ok());
    GraphDef def;
    REQUIRE(ReadGraphDef(dir + "/graph.pb", &def).ok());

    std::vector<std::pair<std::string, Tensor>> feeds;
    const auto& inputs = manifest.fields().at("inputs").list_value();
    for (int i = 0; i < inputs.values_size(); ++i) {
      const Struct& input = inputs.values(i).struct_value();
      absl::StatusOr<Tensor> value = ReadNpy(dir + "/" + StringField(input, "file"));
      REQUIRE(value.ok());
      feeds.emplace_back(StringField(input, "name"), *std::move(value));
    }
    const Struct& output = manifest.fields().at("outputs").list_value().values(0).struct_value();
    const std::string fetch = StringField(output, "name");
    absl::StatusOr<Tensor> expected = ReadNpy(dir + "/" + StringField(output, "file"));
    REQUIRE(expected.ok());

    testing::PlacementLog log;
    SessionOptions options;
    log.Attach(&options);
    absl::StatusOr<std::unique_ptr<Session>> gpu = Session::Create(def, options);
    INFO(gpu.status().ToString());
    REQUIRE(gpu.ok());
    if ((*gpu)->gpu_device() == nullptr) {
      WARN("SKIPPED: no GPU (the session could not open one)");
      return;
    }
    SessionOptions cpu_options;
    cpu_options.num_gpu_devices = 0;
    absl::StatusOr<std::unique_ptr<Session>> cpu = Session::Create(def, cpu_options);
    REQUIRE(cpu.ok());
    std::vector<Tensor> want;
    REQUIRE((*cpu)->Run(feeds, {fetch}, {}, &want).ok());
    CHECK(Excess(want[0], *expected) == 0);
    for (int step = 0; step < 4; ++step) {
      INFO("step " << step);
      std::vector<Tensor> got;
      absl::Status st = (*gpu)->Run(feeds, {fetch}, {}, &got);
      INFO(st.ToString());
      REQUIRE(st.ok());
      CHECK(Excess(got[0], *expected) == 0);
      CHECK(Excess(got[0], want[0]) == 0);
    }
    size_t on_gpu = 0;
    const std::vector<std::string> lines = log.Lines();
    for (const std::string& line : lines) on_gpu += line.find("/device:GPU:") != std::string::npos;
    WARN(name << ": " << on_gpu << " of " << lines.size() << " placement lines on the GPU, "
              << (*gpu)->num_gpu_graphs() << " CUDA graphs, " << (*gpu)->num_direct_gpu_plans()
              << " direct plans");
    ++ran;
  }
  CHECK(ran == 5);
}

}  // namespace
}  // namespace weir
