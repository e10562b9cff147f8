// ref_control_flow_test.cc - The Ref* control-flow ops of old TensorFlow 1.x graphs (RefSwitch,
// RefMerge, RefEnter, RefExit, RefNextIteration, RefIdentity) run like the plain ops, whether
// their T attr carries the ref dtype (DT_FLOAT_REF) or the plain one.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "graph/graph_io.h"
#include "runtime/session.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

std::unique_ptr<Session> MakeSession(const GraphDef& def, int opt_level) {
  SessionOptions options;
  options.opt_level = opt_level;
  auto session = Session::Create(def, options);
  INFO(session.status().message());
  REQUIRE(session.ok());
  return *std::move(session);
}

// tf.cond(p, lambda: x, lambda: -x) with RefSwitch/RefMerge; the RefSwitch's T is float_ref.
constexpr char kRefCond[] = R"pb(
  node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
  node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
  node { name: "switch" op: "RefSwitch" input: "x" input: "p"
         attr { key: "T" value { type: DT_FLOAT_REF } } }
  node { name: "then" op: "RefIdentity" input: "switch:1"
         attr { key: "T" value { type: DT_FLOAT_REF } } }
  node { name: "else" op: "Neg" input: "switch:0" attr { key: "T" value { type: DT_FLOAT } } }
  node { name: "merge" op: "RefMerge" input: "else" input: "then"
         attr { key: "T" value { type: DT_FLOAT } } attr { key: "N" value { i: 2 } } }
  node { name: "after" op: "Identity" input: "merge" attr { key: "T" value { type: DT_FLOAT } } }
)pb";

TEST_CASE("RefSwitch and RefMerge choose a branch like Switch and Merge") {
  GraphDef def;
  REQUIRE(ParseGraphDef(kRefCond, /*text=*/true, &def).ok());
  for (int level : {0, 2}) {
    INFO("opt level " << level);
    auto session = MakeSession(def, level);
    Tensor x = Tensor::FromVector<float>({1.5f, -2.f}, {2});
    std::vector<Tensor> out;
    absl::Status st =
        session->Run({{"x", x}, {"p", Tensor::Scalar<bool>(true)}}, {"after", "merge:1"}, {}, &out);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(out[0].dtype() == DT_FLOAT);
    CHECK(out[0].data<float>()[0] == 1.5f);
    CHECK(out[1].data<int32_t>()[0] == 1);
    REQUIRE(session->Run({{"x", x}, {"p", Tensor::Scalar<bool>(false)}}, {"after", "merge:1"}, {},
                         &out).ok());
    CHECK(out[0].data<float>()[0] == -1.5f);
    CHECK(out[0].data<float>()[1] == 2.f);
    CHECK(out[1].data<int32_t>()[0] == 0);
    // The untaken branch is dead, as with Switch.
    st = session->Run({{"x", x}, {"p", Tensor::Scalar<bool>(true)}}, {"else"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("dead"));
  }
}

TEST_CASE("a while loop of RefEnter/RefMerge/RefSwitch/RefNextIteration/RefExit runs") {
  GraphDef def;
  absl::Status read = ReadGraphDef("tests/runtime/testdata/ref_loop.pbtxt", &def);
  INFO(read.message());
  REQUIRE(read.ok());
  for (int level : {0, 2}) {
    INFO("opt level " << level);
    auto session = MakeSession(def, level);
    Tensor x = Tensor::FromVector<float>({0.5f, -3.f}, {2});
    for (auto [start, n] : {std::pair<int, int>{0, 5}, {3, 4}, {7, 2}, {-2, 10}}) {
      INFO("start " << start << " n " << n);
      std::vector<Tensor> out;
      absl::Status st = session->Run({{"start", Tensor::Scalar<int32_t>(start)},
                                      {"n", Tensor::Scalar<int32_t>(n)},
                                      {"x", x}},
                                     {"count", "acc", "while/Exit"}, {}, &out);
      INFO(st.message());
      REQUIRE(st.ok());
      const int iterations = std::max(0, n - start);
      CHECK(out[0].data<int32_t>()[0] == std::max(start, n));
      CHECK(out[1].data<float>()[0] == std::ldexp(0.5f, iterations));
      CHECK(out[1].data<float>()[1] == std::ldexp(-3.f, iterations));
      CHECK(out[2].dtype() == DT_INT32);
      CHECK(out[2].data<int32_t>()[0] == std::max(start, n));
    }
  }
}

TEST_CASE("a RefNextIteration that feeds no Merge is refused like NextIteration") {
  // The frame builder checks the Ref forms the same way: a back edge must close a loop at a
  // Merge (or RefMerge).
  GraphDef def;
  REQUIRE(ParseGraphDef(R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "enter" op: "RefEnter" input: "x" attr { key: "T" value { type: DT_FLOAT } }
           attr { key: "frame_name" value { s: "f" } } }
    node { name: "next" op: "RefNextIteration" input: "enter"
           attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "neg" op: "Neg" input: "next" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "exit" op: "RefExit" input: "neg" attr { key: "T" value { type: DT_FLOAT } } }
  )pb", /*text=*/true, &def).ok());
  auto session = Session::Create(def);
  std::vector<Tensor> out;
  absl::Status st = session.ok() ? (*session)->Run({{"x", Tensor::Scalar<float>(1)}}, {"exit"},
                                                   {}, &out)
                                 : session.status();
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Contains("'next' (RefNextIteration)") &&
                                            Contains("expected a Merge"));
}

}  // namespace
}  // namespace weir
