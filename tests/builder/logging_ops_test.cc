// logging_ops_test.cc - ops::Assert and string Consts from the builder (builder/logging_ops.cc,
// builder/core_ops.cc): the usual TensorFlow pattern, a check the result depends on through a
// control dependency, built in C++ and run through a Session.
#include <catch2/catch.hpp>

#include "builder/ops.h"
#include "runtime/session.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("a builder-made Assert guards the node that depends on it") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1});
  auto positive = ops::All(s.WithOpName("all"), ops::Greater(s, x, ops::Const(s, 0.f)),
                           ops::Const(s, {0}, {1}));
  Operation check = ops::Assert(s.WithOpName("check"), positive,
                                {ops::Const(s, std::string("x must be positive")), x}, 2);
  auto y = ops::Mul(s.WithControlDependencies({check}).WithOpName("y"), x, ops::Const(s, 2.f));
  GraphDef graph;
  absl::Status built = s.ToGraphDef(&graph);
  INFO(built.message());
  REQUIRE(built.ok());
  auto session = Session::Create(graph);
  REQUIRE(session.ok());

  std::vector<Tensor> out;
  REQUIRE((*session)->Run({{"x", Tensor::FromVector<float>({1, 2}, {2})}}, {"y"}, {}, &out).ok());
  CHECK(out[0].data<float>()[1] == 4);
  absl::Status st =
      (*session)->Run({{"x", Tensor::FromVector<float>({1, -2, 3}, {3})}}, {"y"}, {}, &out);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()),
             Contains("node 'check' (Assert): assertion failed: [x must be positive] [1 -2...]"));
}

TEST_CASE("string Consts from the builder") {
  Scope s = Scope::NewRootScope();
  ops::Identity(s.WithOpName("words"), ops::Const(s, {std::string("a"), std::string("b")}, {2}));
  GraphDef graph;
  REQUIRE(s.ToGraphDef(&graph).ok());
  auto session = Session::Create(graph);
  REQUIRE(session.ok());
  std::vector<Tensor> out;
  REQUIRE((*session)->Run({}, {"words"}, {}, &out).ok());
  CHECK(out[0].DebugString() == "string [2] [\"a\", \"b\"]");
}

}  // namespace
}  // namespace weir
