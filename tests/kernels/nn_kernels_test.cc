// nn_kernels_test.cc - CPU nn kernels (kernels/cpu/nn_kernels.cc) against float64 references
// computed here on random data, plus their errors.
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using Catch::Contains;
using testing::MaxRelativeError;
using testing::RandomFloat;
using testing::RandomInt32;
using testing::RunKernel;

// float32 kernels against float64 references: a few ulps of float per element.
constexpr double kFloatTolerance = 1e-5;
constexpr double kDoubleTolerance = 1e-12;

template <typename T>
std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> out(t.num_elements());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(t.data<T>()[i]);
  return out;
}

Tensor RandomDouble(const TensorShape& shape, std::mt19937& rng, double lo, double hi) {
  Tensor t(DT_DOUBLE, shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double& v : t.flat<double>()) v = dist(rng);
  return t;
}

// value + bias with the bias on dimension `channel_dim`, in float64.
std::vector<double> ReferenceBiasAdd(const std::vector<double>& value, const TensorShape& shape,
                                     const std::vector<double>& bias, int channel_dim) {
  int64_t inner = 1;
  for (int k = channel_dim + 1; k < shape.rank(); ++k) inner *= shape.dim(k);
  std::vector<double> out(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    out[i] = value[i] + bias[(i / inner) % shape.dim(channel_dim)];
  }
  return out;
}

// Softmax over the last dimension, in float64, straight from the definition (the inputs
// here are small enough that exp() cannot overflow).
std::vector<double> ReferenceSoftmax(const std::vector<double>& x, int64_t depth) {
  std::vector<double> out(x.size());
  for (size_t r = 0; r < x.size() / depth; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < depth; ++j) sum += std::exp(x[r * depth + j]);
    for (int64_t j = 0; j < depth; ++j) out[r * depth + j] = std::exp(x[r * depth + j]) / sum;
  }
  return out;
}

TEST_CASE("BiasAdd matches the float64 reference in NHWC and NCHW", "[kernel][nn]") {
  std::mt19937 rng(201);
  struct Case {
    TensorShape shape;
    std::string data_format;
    int channel_dim;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 5}, "NHWC", 3}, {{7, 6}, "NHWC", 1},          {{2, 3, 4, 5}, "NCHW", 1},
      {{4, 3}, "NCHW", 1},       {{2, 3, 2, 4, 5}, "NCHW", 1}, {{0, 4}, "NHWC", 1}};
  for (const Case& c : cases) {
    Tensor value = RandomFloat(c.shape, rng, -2.f, 2.f);
    Tensor bias = RandomFloat({c.shape.dim(c.channel_dim)}, rng, -2.f, 2.f);
    auto out = RunKernel({"BiasAdd",
                          {value, bias},
                          {{"T", MakeAttr(DT_FLOAT)}, {"data_format", MakeAttr(c.data_format)}}});
    INFO(c.data_format << " " << c.shape.ToString());
    REQUIRE(out.ok());
    CHECK((*out)[0].shape() == c.shape);
    CHECK(MaxRelativeError((*out)[0], ReferenceBiasAdd(AsDoubles<float>(value), c.shape,
                                                       AsDoubles<float>(bias), c.channel_dim)) <
          kFloatTolerance);
  }
}

TEST_CASE("BiasAdd in double and int32", "[kernel][nn]") {
  std::mt19937 rng(202);
  Tensor value = RandomDouble({3, 4, 5}, rng, -1, 1);
  Tensor bias = RandomDouble({4}, rng, -1, 1);
  auto out = RunKernel({"BiasAdd",
                        {value, bias},
                        {{"T", MakeAttr(DT_DOUBLE)}, {"data_format", MakeAttr("NCHW")}}});
  REQUIRE(out.ok());
  CHECK(MaxRelativeError((*out)[0], ReferenceBiasAdd(AsDoubles<double>(value), value.shape(),
                                                     AsDoubles<double>(bias), 1)) <
        kDoubleTolerance);

  Tensor ivalue = RandomInt32({3, 4}, rng, -1000, 1000);
  Tensor ibias = RandomInt32({4}, rng, -1000, 1000);
  auto iout = RunKernel({"BiasAdd", {ivalue, ibias}, {{"T", MakeAttr(DT_INT32)}}});
  REQUIRE(iout.ok());
  const std::vector<double> expected =
      ReferenceBiasAdd(AsDoubles<int32_t>(ivalue), ivalue.shape(), AsDoubles<int32_t>(ibias), 1);
  CHECK(AsDoubles<int32_t>((*iout)[0]) == expected);
}

TEST_CASE("BiasAdd errors", "[kernel][nn][error]") {
  std::mt19937 rng(203);
  absl::Status s = RunKernel({"BiasAdd",
                              {RandomFloat({2, 4}, rng), RandomFloat({3}, rng)},
                              {{"T", MakeAttr(DT_FLOAT)}}})
                       .status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(s.message()),
             Contains("input 1 has shape [3], expected [4] (bias size must match the last "
                      "dimension of value)"));
  absl::Status nchw = RunKernel({"BiasAdd",
                                 {RandomFloat({2, 3, 4}, rng), RandomFloat({4}, rng)},
                                 {{"T", MakeAttr(DT_FLOAT)}, {"data_format", MakeAttr("NCHW")}}})
                          .status();
  CHECK_THAT(std::string(nchw.message()),
             Contains("input 1 has shape [4], expected [3] (bias size must match dimension 1 of "
                      "value for data_format NCHW)"));
}

TEST_CASE("Relu zeroes negatives and keeps NaN", "[kernel][nn]") {
  std::mt19937 rng(204);
  Tensor x = RandomFloat({5, 7}, rng);
  x.data<float>()[3] = 0.f;
  x.data<float>()[4] = -0.f;
  x.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  auto out = RunKernel({"Relu", {x}, {{"T", MakeAttr(DT_FLOAT)}}});
  REQUIRE(out.ok());
  std::vector<double> expected = AsDoubles<float>(x);
  for (double& v : expected) v = std::isnan(v) ? v : std::max(v, 0.0);
  CHECK(MaxRelativeError((*out)[0], expected) == 0.0);

  Tensor xi = RandomInt32({4, 4}, rng, -100, 100);
  auto iout = RunKernel({"Relu", {xi}, {{"T", MakeAttr(DT_INT32)}}});
  REQUIRE(iout.ok());
  std::vector<double> iexpected = AsDoubles<int32_t>(xi);
  for (double& v : iexpected) v = std::max(v, 0.0);
  CHECK(AsDoubles<int32_t>((*iout)[0]) == iexpected);

  Tensor xd = RandomDouble({0, 3}, rng, -1, 1);
  auto empty = RunKernel({"Relu", {xd}, {{"T", MakeAttr(DT_DOUBLE)}}});
  REQUIRE(empty.ok());
  CHECK((*empty)[0].shape() == TensorShape({0, 3}));
}

TEST_CASE("Softmax matches the float64 reference over the last axis", "[kernel][nn]") {
  std::mt19937 rng(205);
  // float32 runs on oneDNN's softmax; [8,4,16,16] is the BERT benchmark's attention layout.
  for (TensorShape shape : {TensorShape{10}, TensorShape{4, 7}, TensorShape{2, 3, 33},
                            TensorShape{3, 1}, TensorShape{2, 1000}, TensorShape{8, 4, 16, 16},
                            TensorShape{5, 37}}) {
    Tensor x = RandomFloat(shape, rng, -5.f, 5.f);
    auto out = RunKernel({"Softmax", {x}, {{"T", MakeAttr(DT_FLOAT)}}});
    INFO(shape.ToString());
    REQUIRE(out.ok());
    CHECK(MaxRelativeError((*out)[0], ReferenceSoftmax(AsDoubles<float>(x),
                                                       shape.dim(shape.rank() - 1))) <
          kFloatTolerance);
  }
  Tensor xd = RandomDouble({3, 6}, rng, -5, 5);
  auto out = RunKernel({"Softmax", {xd}, {{"T", MakeAttr(DT_DOUBLE)}}});
  REQUIRE(out.ok());
  CHECK(MaxRelativeError((*out)[0], ReferenceSoftmax(AsDoubles<double>(xd), 6)) <
        kDoubleTolerance);
}

TEST_CASE("Softmax is stable for large logits", "[kernel][nn]") {
  std::mt19937 rng(206);
  // exp(1000) overflows float and double; softmax is shift-invariant, so the reference is
  // computed on the shifted values.
  Tensor x = RandomFloat({3, 8}, rng, -5.f, 5.f);
  Tensor big(DT_FLOAT, {3, 8});
  for (int64_t i = 0; i < 24; ++i) big.data<float>()[i] = x.data<float>()[i] + 1000.f;
  auto out = RunKernel({"Softmax", {big}, {{"T", MakeAttr(DT_FLOAT)}}});
  REQUIRE(out.ok());
  std::vector<double> shifted = AsDoubles<float>(big);
  for (double& v : shifted) v -= 1000.0;
  CHECK(MaxRelativeError((*out)[0], ReferenceSoftmax(shifted, 8)) < kFloatTolerance);
}

TEST_CASE("Softmax of an empty tensor", "[kernel][nn]") {
  auto out = RunKernel({"Softmax", {Tensor(DT_FLOAT, {0, 5})}, {{"T", MakeAttr(DT_FLOAT)}}});
  REQUIRE(out.ok());
  CHECK((*out)[0].shape() == TensorShape({0, 5}));
}

TEST_CASE("Nn kernels report the dtypes they lack", "[kernel][nn][error]") {
  absl::Status s =
      RunKernel({"Softmax", {Tensor(DT_HALF, {2, 3})}, {{"T", MakeAttr(DT_HALF)}}}).status();
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(s.message()),
             Contains("no CPU kernel for T=half (registered: float, double)"));
  absl::Status scalar = RunKernel({"Softmax", {Tensor::Scalar<float>(1.f)},
                                   {{"T", MakeAttr(DT_FLOAT)}}})
                            .status();
  CHECK_THAT(std::string(scalar.message()), Contains("input 0 has shape [], expected rank >= 1"));
}

}  // namespace
}  // namespace weir
