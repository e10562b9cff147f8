// assert_test.cc - String tensors and Assert through a Session: string Consts and feeds pass
// Identity, Switch/Merge and the identity-likes to a fetch; kernels that cannot handle strings
// refuse them by name; an Assert reached through a control dependency (as TensorFlow writes
// tf.debugging.assert_*) runs at every optimization level, fails the step with its data and
// leaves the session usable.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "graph/graph_io.h"
#include "runtime/session.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

std::unique_ptr<Session> TextSession(const char* text, int opt_level = 2) {
  GraphDef def;
  absl::Status parsed = ParseGraphDef(text, /*text=*/true, &def);
  INFO(parsed.message());
  REQUIRE(parsed.ok());
  SessionOptions options;
  options.opt_level = opt_level;
  auto session = Session::Create(def, options);
  INFO(session.status().message());
  REQUIRE(session.ok());
  return *std::move(session);
}

std::unique_ptr<Session> FileSession(const std::string& path, int opt_level = 2) {
  GraphDef def;
  absl::Status read = ReadGraphDef(path, &def);
  INFO(read.message());
  REQUIRE(read.ok());
  SessionOptions options;
  options.opt_level = opt_level;
  auto session = Session::Create(def, options);
  INFO(session.status().message());
  REQUIRE(session.ok());
  return *std::move(session);
}

std::vector<std::string> Strings(const Tensor& t) {
  REQUIRE(t.dtype() == DT_STRING);
  return std::vector<std::string>(t.data<std::string>(),
                                  t.data<std::string>() + t.num_elements());
}

constexpr char kStrings[] = R"pb(
  node { name: "words" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
         attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 3 } }
                                              string_val: "alpha" string_val: "beta" } } } }
  node { name: "id" op: "Identity" input: "words" attr { key: "T" value { type: DT_STRING } } }
  node { name: "snap" op: "Snapshot" input: "id" attr { key: "T" value { type: DT_STRING } } }
  node { name: "fed" op: "Placeholder" attr { key: "dtype" value { type: DT_STRING } } }
  node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
  node { name: "switch" op: "Switch" input: "fed" input: "p"
         attr { key: "T" value { type: DT_STRING } } }
  node { name: "merge" op: "Merge" input: "switch:0" input: "switch:1"
         attr { key: "T" value { type: DT_STRING } } attr { key: "N" value { i: 2 } } }
  node { name: "both" op: "IdentityN" input: "merge" input: "words"
         attr { key: "T" value { list { type: DT_STRING type: DT_STRING } } } }
)pb";

TEST_CASE("string Consts and feeds pass Identity, Snapshot, Switch/Merge and IdentityN") {
  for (int level : {0, 2}) {
    INFO("opt level " << level);
    auto session = TextSession(kStrings, level);
    std::vector<Tensor> out;
    Tensor fed = Tensor::FromVector<std::string>({"fed", "strings"}, {2});
    for (bool p : {true, false}) {
      absl::Status st = session->Run({{"fed", fed}, {"p", Tensor::Scalar<bool>(p)}},
                                     {"id", "snap", "merge", "both:0", "both:1", "words"}, {},
                                     &out);
      INFO(st.message());
      REQUIRE(st.ok());
      const std::vector<std::string> words = {"alpha", "beta", "beta"};
      CHECK(Strings(out[0]) == words);
      CHECK(Strings(out[1]) == words);
      CHECK(Strings(out[2]) == std::vector<std::string>{"fed", "strings"});
      CHECK(out[2].shape() == TensorShape({2}));
      CHECK(Strings(out[3]) == std::vector<std::string>{"fed", "strings"});
      CHECK(Strings(out[4]) == words);
      CHECK(Strings(out[5]) == words);
    }
    // The fetched strings are the caller's: changing them does not change the next run.
    out[5].data<std::string>()[0] = "changed";
    REQUIRE(session->Run({}, {"words"}, {}, &out).ok());
    CHECK(Strings(out[0])[0] == "alpha");
  }
}

TEST_CASE("a kernel that cannot handle strings refuses them, naming the node") {
  auto session = TextSession(R"pb(
    node { name: "a" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
           attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } }
                                                string_val: "a" } } } }
    node { name: "axis" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
           attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 0 } } } }
    node { name: "joined" op: "ConcatV2" input: "a" input: "a" input: "axis"
           attr { key: "T" value { type: DT_STRING } } attr { key: "N" value { i: 2 } }
           attr { key: "Tidx" value { type: DT_INT32 } } }
  )pb");
  std::vector<Tensor> out;
  absl::Status st = session->Run({}, {"joined"}, {}, &out);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Contains("'joined' (ConcatV2)") && Contains("string"));
}

constexpr char kAssertFile[] = "tests/runtime/testdata/assert_control_dep.pbtxt";

TEST_CASE("an Assert behind a control dependency passes, fails with its data, and recovers") {
  for (int level : {0, 1, 2, 3}) {
    INFO("opt level " << level);
    auto session = FileSession(kAssertFile, level);
    std::vector<Tensor> out;
    Tensor good = Tensor::FromVector<float>({1, 2, 3, 4}, {4});
    Tensor bad = Tensor::FromVector<float>({1, -2, 3, 4}, {4});
    REQUIRE(session->Run({{"x", good}}, {"y"}, {}, &out).ok());
    CHECK(out[0].data<float>()[3] == 8);

    absl::Status st = session->Run({{"x", bad}}, {"y"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK(absl::IsInvalidArgument(st));
    CHECK_THAT(std::string(st.message()),
               Contains("node 'check/Assert' (Assert): assertion failed: "
                        "[x must be positive] [x = ] [1 -2 3...]"));

    // The failed step left nothing behind.
    REQUIRE(session->Run({{"x", good}}, {"y"}, {}, &out).ok());
    CHECK(out[0].data<float>()[0] == 2);
    // As a target on its own, too.
    CHECK(session->Run({{"x", good}}, {}, {"check/Assert"}, &out).ok());
    CHECK_FALSE(session->Run({{"x", bad}}, {}, {"check/Assert"}, &out).ok());
  }
}

TEST_CASE("an Assert on constants is neither folded nor dropped") {
  // Everything here is constant; constant folding, simplification and dead-node elimination
  // must still leave the Assert in front of the fetch.
  constexpr char kConstAssert[] = R"pb(
    node { name: "no" op: "Const" attr { key: "dtype" value { type: DT_BOOL } }
           attr { key: "value" value { tensor { dtype: DT_BOOL tensor_shape { } bool_val: false } } } }
    node { name: "why" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
           attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { }
                                                string_val: "Condition x == y did not hold" } } } }
    node { name: "assert" op: "Assert" input: "no" input: "why"
           attr { key: "T" value { list { type: DT_STRING } } } }
    node { name: "one" op: "Const" input: "^assert" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 1 } } } }
    node { name: "two" op: "AddV2" input: "one" input: "one"
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "out" op: "Identity" input: "two" attr { key: "T" value { type: DT_FLOAT } } }
  )pb";
  for (int level : {0, 1, 2, 3}) {
    INFO("opt level " << level);
    auto session = TextSession(kConstAssert, level);
    std::vector<Tensor> out;
    absl::Status st = session->Run({}, {"out"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()),
               Contains("'assert' (Assert)") &&
                   Contains("assertion failed: [Condition x == y did not hold]"));
  }
}

TEST_CASE("an Assert's condition must be a scalar") {
  GraphDef def;
  REQUIRE(ParseGraphDef(R"pb(
    node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_BOOL } }
           attr { key: "value" value { tensor { dtype: DT_BOOL tensor_shape { dim { size: 2 } }
                                                bool_val: true } } } }
    node { name: "assert" op: "Assert" input: "c" input: "c"
           attr { key: "T" value { list { type: DT_BOOL } } } }
  )pb", /*text=*/true, &def).ok());
  auto session = Session::Create(def);
  std::vector<Tensor> out;
  absl::Status st = session.ok() ? (*session)->Run({}, {}, {"assert"}, &out) : session.status();
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()),
             Contains("'assert' (Assert)") && Contains("condition must be a scalar"));
}

}  // namespace
}  // namespace weir
