// cli_test.cc - `weir run` and `weir dump`: outputs, --out files, and one clear error line
// with a non-zero exit for bad input.
#include "tools/cli.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "builder/ops.h"
#include "graph/graph_io.h"
#include "tools/npy.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

struct CliResult {
  int rc;
  std::string out;
  std::string err;
};

CliResult Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int rc = RunCli(args, out, err);
  return {rc, out.str(), err.str()};
}

// y = Identity(x), x: float [?,2]; saved as .pb and .pbtxt.
std::string WriteGraph(const std::string& name) {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 2});
  ops::Identity(s.WithOpName("y"), x);
  ops::Const(s.WithOpName("scope/c"), std::vector<float>{1, 2, 3}, TensorShape({3}));
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  std::string path = TmpDir() + "/" + name;
  REQUIRE(WriteGraphDef(path, def).ok());
  return path;
}

std::string WriteFile(const std::string& name, const std::string& bytes) {
  std::string path = TmpDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST_CASE("weir run prints fetches and writes --out files") {
  for (const char* name : {"g.pb", "g.pbtxt"}) {
    std::string graph = WriteGraph(name);
    std::string x = TmpDir() + "/x.npy";
    REQUIRE(WriteNpy(x, Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2})).ok());
    std::string out_dir = TmpDir() + "/out";
    CliResult r = Cli({"run", graph, "--feed", "x=" + x, "--fetch", "y:0", "--fetch",
                       "scope/c", "--out", out_dir, "--threads", "2"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK_THAT(r.out, Contains("y:0: float [2,2] [[1, 2], [3, 4]]"));
    CHECK_THAT(r.out, Contains("scope/c: float [3] [1, 2, 3]"));
    absl::StatusOr<Tensor> y = ReadNpy(out_dir + "/y_0.npy");
    REQUIRE(y.ok());
    CHECK(y->shape() == TensorShape({2, 2}));
    CHECK(y->data<float>()[3] == 4.f);
    CHECK(ReadNpy(out_dir + "/scope_c.npy").ok());
  }
}

TEST_CASE("fetch file names replace characters outside [A-Za-z0-9._-]") {
  CHECK(FetchFileName("dense/MatMul:1") == "dense_MatMul_1.npy");
  CHECK(FetchFileName("a.b-c_d") == "a.b-c_d.npy");
}

TEST_CASE("weir dump summarizes the graph") {
  std::string graph = WriteGraph("d.pb");
  CliResult r = Cli({"dump", graph});
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Contains("inputs:\n  x: float [?,2]"));
  CHECK_THAT(r.out, Contains("outputs:\n  y (Identity): float [?,2]"));
  CHECK_THAT(r.out, Contains("parameters: 3"));
  CHECK_THAT(r.out, Contains("y = Identity(x) -> float[?,2]"));
}

TEST_CASE("bad input exits non-zero with one error line") {
  std::string graph = WriteGraph("e.pb");
  std::string x = TmpDir() + "/x2.npy";
  REQUIRE(WriteNpy(x, Tensor::FromVector<float>({1, 2, 3}, {3})).ok());
  auto one_line = [](const CliResult& r) {
    CHECK(r.rc == 1);
    CHECK(r.err.rfind("weir: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  SECTION("missing graph file") {
    CliResult r = Cli({"run", TmpDir() + "/nope.pb", "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("nope.pb"));
  }
  SECTION("garbage .pb") {
    CliResult r = Cli({"run", WriteFile("garbage.pb", "\xff\xff\xff\xff garbage"), "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("garbage.pb"));
  }
  SECTION("truncated .pb") {
    std::ifstream in(graph, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string cut = bytes.str().substr(0, bytes.str().size() / 2);
    CliResult r = Cli({"run", WriteFile("cut.pb", cut), "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("cut.pb"));
  }
  SECTION("feed with the wrong shape") {
    CliResult r = Cli({"run", graph, "--feed", "x=" + x, "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("feed 'x' has shape [3], expected [?,2]"));
  }
  SECTION("malformed .npy feed") {
    CliResult r = Cli({"run", graph, "--feed", "x=" + WriteFile("bad.npy", "not numpy"),
                       "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("feed 'x'") && Contains("bad.npy"));
  }
  SECTION("missing feed") {
    CliResult r = Cli({"run", graph, "--fetch", "y"});
    one_line(r);
    CHECK_THAT(r.err, Contains("placeholder 'x'"));
  }
  SECTION("fetch of a missing node") {
    CliResult r = Cli({"run", graph, "--feed", "x=" + x, "--fetch", "nothing"});
    one_line(r);
    CHECK_THAT(r.err, Contains("no node named 'nothing'"));
  }
  SECTION("usage errors exit 2") {
    CHECK(Cli({"run"}).rc == 2);
    CHECK(Cli({"frobnicate"}).rc == 2);
    CHECK(Cli({"run", graph, "--feed", "x", "--fetch", "y"}).rc == 2);
  }
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("weir bench prints one timing line") {
  std::string graph = WriteGraph("b.pb");
  std::string x = TmpDir() + "/xb.npy";
  REQUIRE(WriteNpy(x, Tensor::FromVector<float>({1, 2}, {1, 2})).ok());
  CliResult r = Cli({"bench", graph, "--feed", "x=" + x, "--fetch", "y", "--runs", "7",
                     "--warmup", "2", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Catch::Matches("median_us=[0-9.]+ p10_us=[0-9.]+ p90_us=[0-9.]+ runs=7\n"));
  CliResult slow = Cli({"bench", graph, "--feed", "x=" + x, "--fetch", "y", "--runs", "3",
                        "--slowest", "2"});
  REQUIRE(slow.rc == 0);
  CHECK_THAT(slow.out, Catch::Matches("median_us=[^\n]+\n(slowest: [^ ]+ \\([A-Za-z_]+\\) "
                                      "mean_us=[0-9.]+\n){2}"));
  CHECK(Cli({"bench", graph, "--fetch", "y", "--runs", "0"}).rc == 2);
  // One thread count at a time.
  CliResult split = Cli({"bench", graph, "--feed", "x=" + x, "--fetch", "y", "--runs", "3",
                         "--inter-op-threads", "1", "--intra-op-threads", "2"});
  INFO(split.err);
  CHECK(split.rc == 0);
  CliResult bad = Cli({"bench", graph, "--feed", "x=" + x, "--fetch", "y",
                       "--inter-op-threads", "many"});
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Contains("--inter-op-threads 'many' should be an integer >= 0"));
  CliResult missing = Cli({"bench", graph, "--fetch", "y"});
  CHECK(missing.rc == 1);
  CHECK_THAT(missing.err, Contains("placeholder 'x'"));
}

}  // namespace
}  // namespace weir

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace weir {
namespace {

TEST_CASE("weir run --trace writes a Chrome trace with one event per executed node") {
  std::string graph = WriteGraph("t.pb");
  std::string x = TmpDir() + "/xt.npy";
  REQUIRE(WriteNpy(x, Tensor::FromVector<float>({1, 2}, {1, 2})).ok());
  std::string trace = TmpDir() + "/trace.json";
  CliResult r = Cli({"run", graph, "--feed", "x=" + x, "--fetch", "y", "--trace", trace});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  std::ifstream in(trace);
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::Struct json;
  REQUIRE(google::protobuf::util::JsonStringToMessage(text.str(), &json).ok());
  std::multiset<std::string> names;
  for (const auto& event : json.fields().at("traceEvents").list_value().values()) {
    const auto& fields = event.struct_value().fields();
    if (fields.at("ph").string_value() != "X") continue;
    names.insert(fields.at("name").string_value());
    CHECK(fields.at("dur").number_value() >= 0);
    CHECK(fields.count("tid") == 1);
  }
  // Executed: the feed's _Arg, y, and the fetch's _Retval; the unfetched Const is pruned.
  CHECK(names == std::multiset<std::string>{"_arg_x_0", "y", "_retval_y_0"});
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("an unknown op: run fails with one line naming op and node, dump still lists the graph") {
  std::string graph = WriteFile("unknown.pbtxt", R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "weird" op: "FrobnicateV7" input: "x" }
  )pb");
  CliResult run = Cli({"run", graph, "--fetch", "weird"});
  CHECK(run.rc == 1);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK_THAT(run.err, Contains("node 'weird'") && Contains("unknown op 'FrobnicateV7'"));
  CliResult dump = Cli({"dump", graph});
  CHECK(dump.rc == 0);
  CHECK_THAT(dump.err, Contains("weir: warning:") && Contains("FrobnicateV7"));
  CHECK_THAT(dump.out, Contains("weird = FrobnicateV7(x)") && Contains("not validated"));
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("--opt-level picks the pipeline for run and bench; level 0 and 2 agree") {
  // y = Relu(BiasAdd(MatMul(x, w), b)): level 2 fuses it into one _FusedMatMul, level 0 not.
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 3});
  auto w = ops::Const(s.WithOpName("w"), std::vector<float>{0.5f, -1, 2, 0.25f, -0.5f, 1.5f},
                      TensorShape({3, 2}));
  auto b = ops::Const(s.WithOpName("b"), std::vector<float>{0.1f, -0.2f}, TensorShape({2}));
  auto mm = ops::MatMul(s.WithOpName("mm"), x, w);
  auto ba = ops::BiasAdd(s.WithOpName("ba"), mm, b);
  ops::Relu(s.WithOpName("y"), ba);
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  const std::string graph = TmpDir() + "/fusable.pb";
  REQUIRE(WriteGraphDef(graph, def).ok());
  const std::string feed = TmpDir() + "/fusable_x.npy";
  REQUIRE(WriteNpy(feed, Tensor::FromVector<float>({1, 2, 3, -1, 0.5f, 2}, {2, 3})).ok());

  std::string outputs[2];
  for (int level : {0, 2}) {
    INFO("level " << level);
    CliResult run = Cli({"run", graph, "--feed", "x=" + feed, "--fetch", "y", "--opt-level",
                         std::to_string(level)});
    INFO(run.err);
    REQUIRE(run.rc == 0);
    outputs[level / 2] = run.out;
    CliResult bench = Cli({"bench", graph, "--feed", "x=" + feed, "--fetch", "y", "--runs", "3",
                           "--warmup", "1", "--slowest", "8", "--opt-level",
                           std::to_string(level)});
    INFO(bench.err);
    REQUIRE(bench.rc == 0);
    if (level == 0) {
      CHECK_THAT(bench.out, Contains("(MatMul)"));
      CHECK_THAT(bench.out, !Contains("_FusedMatMul"));
    } else {
      CHECK_THAT(bench.out, Contains("y (_FusedMatMul)"));
      CHECK_THAT(bench.out, !Contains("(MatMul)"));
    }
  }
  CHECK(outputs[0] == outputs[1]);
  CHECK_THAT(outputs[0], Contains("y: float [2,2]"));

  for (const char* bad : {"4", "-1", "two"}) {
    CliResult r = Cli({"run", graph, "--feed", "x=" + feed, "--fetch", "y", "--opt-level", bad});
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Contains(std::string("--opt-level '") + bad +
                               "' should be an integer from 0 to 3"));
  }
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("--cpu-devices N runs nodes pinned to /device:CPU:1 there; run and bench") {
  std::string graph = WriteFile("two_cpus.pbtxt", R"pb(
    node { name: "x" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } }
                                                float_val: 1 float_val: 2 } } } }
    node { name: "a" op: "Square" input: "x" device: "/device:CPU:1"
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "b" op: "Neg" input: "a" device: "/device:CPU:0"
           attr { key: "T" value { type: DT_FLOAT } } }
  )pb");
  CliResult run = Cli({"run", graph, "--fetch", "b", "--cpu-devices", "2", "--log-placement",
                       "--opt-level", "0"});
  REQUIRE(run.rc == 0);
  CHECK_THAT(run.out, Contains("a: (Square): /device:CPU:1") && Contains("[-1, -4]"));
  CliResult bench = Cli({"bench", graph, "--fetch", "b", "--cpu-devices", "2", "--opt-level", "0",
                         "--runs", "3", "--warmup", "1"});
  CHECK(bench.rc == 0);
  CHECK_THAT(bench.out, Contains("median_us="));
  CliResult bad = Cli({"run", graph, "--fetch", "b", "--cpu-devices", "0"});
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Contains("--cpu-devices '0' should be an integer >= 1"));
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("--gpus 0 keeps every node on the CPU; a GPU request then fails without soft placement") {
  std::string graph = WriteFile("gpu_request.pbtxt", R"pb(
    node { name: "x" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } }
                                                float_val: 1 float_val: 2 } } } }
    node { name: "a" op: "Square" input: "x" device: "/device:GPU:0"
           attr { key: "T" value { type: DT_FLOAT } } }
  )pb");
  CliResult run = Cli({"run", graph, "--fetch", "a", "--gpus", "0", "--log-placement",
                       "--opt-level", "0"});
  REQUIRE(run.rc == 0);
  CHECK_THAT(run.out, Contains("a: (Square): /device:CPU:0") && Contains("[1, 4]"));
  CliResult strict = Cli({"run", graph, "--fetch", "a", "--gpus", "0", "--no-soft-placement",
                          "--opt-level", "0"});
  CHECK(strict.rc != 0);
  CHECK_THAT(strict.err, Contains("node 'a' (Square) requests device '/device:GPU:0'"));
  CliResult bad = Cli({"run", graph, "--fetch", "a", "--gpus", "-1"});
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Contains("--gpus '-1' should be an integer >= 0"));
}

}  // namespace
}  // namespace weir
