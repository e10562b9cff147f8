// eltwise_onednn_test.cc - Tests for kernels/cpu/eltwise_onednn.cc: the float32 unary ops on
// oneDNN's eltwise primitive (Tanh and Sigmoid on activation_float.h) against float64
// references on random data, TensorFlow's values at the edges (saturation, overflow, log(0),
// sqrt of a negative), several shapes sharing one element count, and that float64 keeps its own
// kernel. (Exp, Log and Relu stay loops: oneDNN's log is off by ~1e-4 relative near x = 1, and
// its exp and relu do not return NaN for NaN as TensorFlow does; all three were measured by this
// test's earlier versions.)
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::KernelRun;
using testing::RandomFloat;
using testing::RunKernel;

struct UnaryCase {
  std::string op;
  float lo, hi;
  std::function<double(double)> reference;
};

const std::vector<UnaryCase> kCases = {
    {"Tanh", -6.f, 6.f, [](double x) { return std::tanh(x); }},
    {"Sigmoid", -12.f, 12.f, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
    {"Sqrt", 0.f, 100.f, [](double x) { return std::sqrt(x); }},
    {"Square", -100.f, 100.f, [](double x) { return x * x; }},
    {"Elu", -8.f, 4.f, [](double x) { return x > 0 ? x : std::expm1(x); }},
};

// oneDNN's vectorized exp and activation_float.h's tanh / sigmoid are accurate to a few float32
// ulp; the bound is |y - ref| <= 8 ulp-equivalents of max(|ref|, 2^-126), i.e. 8 * 2^-23
// relative, plus 1e-7 absolute for results near zero (tanh(x) for tiny x, elu near 0).
constexpr double kUlps = 8;

double Tolerance(double ref) {
  return kUlps * std::ldexp(1.0, -23) * std::fabs(ref) + 1e-7;
}

TEST_CASE("float32 eltwise ops match float64 references on random data") {
  std::mt19937 rng(3);
  for (const UnaryCase& c : kCases) {
    INFO(c.op);
    Tensor x = RandomFloat(TensorShape{64, 257}, rng, c.lo, c.hi);
    absl::StatusOr<std::vector<Tensor>> out = RunKernel({c.op, {x}, {{"T", MakeAttr(DT_FLOAT)}}});
    INFO(out.status().message());
    REQUIRE(out.ok());
    auto in = x.flat<float>();
    auto y = (*out)[0].flat<float>();
    REQUIRE(y.size() == in.size());
    double worst = 0;
    int64_t worst_at = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const double ref = c.reference(in[i]);
      const double err = std::fabs(y[i] - ref) / Tolerance(ref);
      if (err > worst) {
        worst = err;
        worst_at = static_cast<int64_t>(i);
      }
    }
    INFO("worst at x=" << in[worst_at] << ": " << y[worst_at] << " vs "
                       << c.reference(in[worst_at]));
    CHECK(worst <= 1.0);
  }
}

float RunOne(const std::string& op, float x) {
  absl::StatusOr<std::vector<Tensor>> out =
      RunKernel({op, {Tensor::FromVector<float>({x}, TensorShape{1})}, {{"T", MakeAttr(DT_FLOAT)}}});
  REQUIRE(out.ok());
  return (*out)[0].flat<float>()[0];
}

TEST_CASE("float32 eltwise ops give TensorFlow's values at the edges") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(RunOne("Tanh", 30.f) == 1.f);
  CHECK(RunOne("Tanh", -30.f) == -1.f);
  CHECK(RunOne("Sigmoid", 100.f) == 1.f);
  CHECK(RunOne("Sigmoid", -200.f) == 0.f);
  CHECK(std::isnan(RunOne("Sqrt", -1.f)));
  for (const UnaryCase& c : kCases) {
    INFO(c.op);
    CHECK(std::isnan(RunOne(c.op, std::numeric_limits<float>::quiet_NaN())));
  }
  CHECK(RunOne("Elu", -100.f) == -1.f);
  CHECK(RunOne("Tanh", inf) == 1.f);
  CHECK(RunOne("Tanh", -inf) == -1.f);
  CHECK(RunOne("Sqrt", inf) == inf);
  CHECK(RunOne("Square", -inf) == inf);
}

TEST_CASE("float32 eltwise kernels serve shapes with the same element count and empty tensors") {
  std::mt19937 rng(9);
  for (const TensorShape& shape : {TensorShape{6, 4}, TensorShape{24}, TensorShape{2, 3, 4},
                                   TensorShape{0, 5}, TensorShape{}}) {
    Tensor x = RandomFloat(shape, rng, -2.f, 2.f);
    absl::StatusOr<std::vector<Tensor>> out = RunKernel({"Tanh", {x}, {{"T", MakeAttr(DT_FLOAT)}}});
    REQUIRE(out.ok());
    CHECK((*out)[0].shape() == shape);
    auto in = x.flat<float>();
    auto y = (*out)[0].flat<float>();
    for (size_t i = 0; i < in.size(); ++i) {
      CHECK(std::fabs(y[i] - std::tanh(static_cast<double>(in[i]))) < 1e-6);
    }
  }
}

TEST_CASE("float64 keeps its exact loop kernels") {
  for (const UnaryCase& c : kCases) {
    INFO(c.op);
    const double x = c.op == "Log" || c.op == "Sqrt" ? 2.5 : -0.75;
    absl::StatusOr<std::vector<Tensor>> out =
        RunKernel({c.op, {Tensor::FromVector<double>({x}, TensorShape{1})},
                   {{"T", MakeAttr(DT_DOUBLE)}}});
    REQUIRE(out.ok());
    CHECK((*out)[0].flat<double>()[0] == Approx(c.reference(x)).epsilon(1e-15));
  }
}

}  // namespace
}  // namespace weir
