// logging_kernels_test.cc - Assert (kernels/cpu/logging_kernels.cc): silent when the condition
// holds; otherwise "assertion failed: [..] [..]" in TensorFlow's format, whose expected strings
// below were printed by TensorFlow 2.15.1's own Assert kernel for the same inputs.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

absl::Status RunAssert(bool condition, std::vector<Tensor> data, int64_t summarize = 3) {
  std::vector<DataType> types;
  for (const Tensor& t : data) types.push_back(t.dtype());
  testing::KernelRun run{"Assert", {Tensor::Scalar<bool>(condition)}, {}};
  run.inputs.insert(run.inputs.end(), data.begin(), data.end());
  run.attrs = {{"T", MakeAttr(types)}, {"summarize", MakeAttr(summarize)}};
  absl::StatusOr<std::vector<Tensor>> out = testing::RunKernel(run);
  if (out.ok()) CHECK(out->empty());
  return out.status();
}

std::string Message(const absl::Status& s) {
  REQUIRE_FALSE(s.ok());
  CHECK(absl::IsInvalidArgument(s));
  return std::string(s.message());
}

Tensor Str(const std::string& s) { return Tensor::Scalar(s); }

TEST_CASE("Assert does nothing when the condition holds") {
  CHECK(RunAssert(true, {Str("never printed"), Tensor::FromVector<float>({1, 2}, {2})}).ok());
}

TEST_CASE("Assert fails with its data in TensorFlow's format") {
  SECTION("strings unquoted, numbers space-separated") {
    std::string m = Message(RunAssert(
        false, {Str("x must exceed -100"), Str("x (x:0) = "),
                Tensor::FromVector<float>({1, -200, 3}, {3}), Tensor::Scalar<float>(-100)}));
    CHECK_THAT(m, Contains("assertion failed: [x must exceed -100] [x (x:0) = ] [1 -200 3] "
                           "[-100]"));
  }
  SECTION("summarize cuts inner rows and the whole with ...") {
    CHECK_THAT(Message(RunAssert(false, {Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2})})),
               Contains("assertion failed: [[1 2][3...]...]"));
    CHECK_THAT(Message(RunAssert(false, {Tensor::FromVector<int32_t>({1, 2, 3, 4, 5}, {5})})),
               Contains("assertion failed: [1 2 3...]"));
    CHECK_THAT(
        Message(RunAssert(false, {Tensor::FromVector<int32_t>({1, 2, 3, 4, 5}, {5})}, 0)),
        Contains("assertion failed: [...]"));
  }
  SECTION("a negative summarize prints everything") {
    CHECK_THAT(
        Message(RunAssert(false, {Tensor::FromVector<int32_t>({1, 2, 3, 4, 5}, {5})}, -1)),
        Contains("assertion failed: [1 2 3 4 5]"));
  }
  SECTION("strings are C-escaped; floats, doubles, int64 and bools as TensorFlow prints them") {
    CHECK_THAT(Message(RunAssert(false, {Tensor::FromVector<float>({1.5f, 2, 3, 4}, {2, 2}),
                                         Str("a\nb\"q")})),
               Contains("assertion failed: [[1.5 2][3...]...] [a\\nb\\\"q]"));
    CHECK_THAT(Message(RunAssert(false,
                                 {Tensor::FromVector<float>({0.1f, 1e10f, -2.5e-7f}, {3}),
                                  Tensor::FromVector<std::string>({"x", "y"}, {1, 2})},
                                 5)),
               Contains("assertion failed: [0.1 1e+10 -2.5e-07] [[x y]]"));
    CHECK_THAT(Message(RunAssert(false, {Tensor::Scalar<double>(3.0),
                                         Tensor::FromVector<int64_t>({1, 2}, {2})})),
               Contains("assertion failed: [3] [1 2]"));
    CHECK_THAT(Message(RunAssert(false, {Tensor::Scalar<bool>(true),
                                         Tensor::FromVector<float>({}, {0})}, -1)),
               Contains("assertion failed: [1] []"));
  }
  SECTION("the message starts with the assertion (the executor adds node and op)") {
    CHECK_THAT(Message(RunAssert(false, {Str("boom")})),
               Contains("'op_under_test' (Assert)") && Contains("assertion failed: [boom]"));
  }
}

TEST_CASE("Assert checks its condition is a scalar") {
  testing::KernelRun run{"Assert",
                         {Tensor::FromVector<bool>({true, false}, {2}), Str("data")},
                         {{"T", MakeAttr(std::vector<DataType>{DT_STRING})}}};
  absl::StatusOr<std::vector<Tensor>> out = testing::RunKernel(run);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(std::string(out.status().message()),
             Contains("condition must be a scalar") && Contains("expected rank 0"));
}

}  // namespace
}  // namespace weir
