// activation_float_test.cc - Tests for kernels/cpu/activation_float.cc: TanhFloatArray and
// SigmoidFloatArray (and the scalar fallbacks) against float64 std::tanh and 1 / (1 + exp(-x))
// on a dense sweep, random inputs and special values; lengths that are not a multiple of 8,
// in-place use; and that the float32 Tanh / Sigmoid kernels and the fused Tanh / Sigmoid
// epilogues compute exactly these functions.
//
// Tolerances, in ulp of the float64 result (2^(ilogb(ref) - 23)):
//   tanh: 5 ulp, i.e. at most 3e-7 absolute. The approximation itself (Eigen's, as TensorFlow
//     computes float tanh) is within 3.5e-8 of tanh; the rest is float rounding in the
//     polynomials and the division, largest where tanh is near 1 (2.8e-7 at x = 6.88), and the
//     clamp (tanh of 8 .. 9.01 is below 1 in float, 1 here: 2.3e-7). The scalar fallback,
//     without fused multiply-adds, rounds more: 7 ulp (3.6e-7 at x = -5.92).
//   sigmoid: 3 ulp relative for x >= -87.3 (2.4 measured), tiny results included; below that
//     the true value is under 2^-126 and the result is 0.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/cpu/activation_float.h"
#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::KernelRun;
using testing::RandomFloat;
using testing::RunKernel;

using ArrayFunction = void (*)(const float*, float*, int64_t);

struct Activation {
  std::string name;
  ArrayFunction array;
  float (*scalar)(float);
  std::function<double(double)> reference;
  double ulps;
  double scalar_ulps;  // the fallback for CPUs without AVX2 + FMA
  // Inputs below this are checked only for an absolute error under 2^-126.
  double relative_from;
};

const std::vector<Activation> kActivations = {
    {"Tanh", TanhFloatArray, TanhFloat, [](double x) { return std::tanh(x); }, 5, 7,
     -std::numeric_limits<double>::infinity()},
    {"Sigmoid", SigmoidFloatArray, SigmoidFloat,
     [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 3, 3, -87.3},
};

double Ulp(double ref) {
  if (ref == 0) return std::ldexp(1.0, -149);
  return std::ldexp(1.0, std::max(std::ilogb(ref) - 23, -149));
}

// The worst error of `y` over `x`, in units of the tolerance (<= 1 passes), with where it was.
struct Worst {
  double error = 0;
  float x = 0, y = 0;
};

Worst WorstError(const Activation& a, double ulps, const std::vector<float>& x,
                 const std::vector<float>& y) {
  Worst w;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = a.reference(x[i]);
    const double err = std::fabs(y[i] - ref);
    const double e = x[i] >= a.relative_from ? err / (ulps * Ulp(ref))
                                             : err / std::ldexp(1.0, -126);
    if (!(e <= w.error)) w = {e, x[i], y[i]};
  }
  return w;
}

std::vector<float> Apply(ArrayFunction f, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  f(x.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

std::vector<float> SweepInputs() {
  std::vector<float> x;
  for (int i = -20 * 4096; i <= 20 * 4096; ++i) x.push_back(static_cast<float>(i) / 4096.f);
  // Every float near the spots where the approximations change regime or error peaks.
  for (float center : {0.0004f, 0.55f, 0.97f, 6.88f, 7.9053f, 7.9988f, 9.0f, 87.3f}) {
    for (float sign : {1.f, -1.f}) {
      float v = center;
      for (int k = 0; k < 2000; ++k) v = std::nextafter(v, 0.f);
      for (int k = 0; k < 4000; ++k, v = std::nextafter(v, 100.f)) x.push_back(sign * v);
    }
  }
  return x;
}

std::vector<float> RandomInputs() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-100.f, 100.f);
  std::uniform_real_distribution<float> exponent(-40.f, 2.f);
  std::vector<float> x;
  for (int i = 0; i < 200000; ++i) x.push_back(wide(rng));
  // Magnitudes spread over many binades, both signs.
  for (int i = 0; i < 200000; ++i) {
    x.push_back((i % 2 ? -1.f : 1.f) * std::pow(10.f, exponent(rng)));
  }
  return x;
}

TEST_CASE("tanh and sigmoid match float64 over a dense sweep of [-20, 20] and random inputs") {
  for (const std::vector<float>& x : {SweepInputs(), RandomInputs()}) {
    for (const Activation& a : kActivations) {
      INFO(a.name << " over " << x.size() << " inputs");
      const Worst array = WorstError(a, a.ulps, x, Apply(a.array, x));
      INFO("array: worst " << array.error << " of the tolerance at x=" << array.x << " ("
                           << array.y << " vs " << a.reference(array.x) << ")");
      CHECK(array.error <= 1.0);
      std::vector<float> y(x.size());
      for (size_t i = 0; i < x.size(); ++i) y[i] = a.scalar(x[i]);
      const Worst scalar = WorstError(a, a.scalar_ulps, x, y);
      INFO("scalar: worst " << scalar.error << " of the tolerance at x=" << scalar.x << " ("
                            << scalar.y << " vs " << a.reference(scalar.x) << ")");
      CHECK(scalar.error <= 1.0);
    }
  }
}

TEST_CASE("tanh and sigmoid give exact values at special inputs") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float max = std::numeric_limits<float>::max();
  const float denormal = std::numeric_limits<float>::denorm_min();
  const std::vector<float> x = {0.f,  -0.f,  1e-30f, -1e-30f, denormal, -denormal, 1e30f,
                                -1e30f, max, -max,   inf,     -inf,     nan,       -nan,
                                20.f, -20.f, 100.f,  -100.f,  -88.f};
  const std::vector<float> tanh_y = Apply(TanhFloatArray, x);
  const std::vector<float> sigmoid_y = Apply(SigmoidFloatArray, x);
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i] << " tanh " << tanh_y[i] << " sigmoid " << sigmoid_y[i]);
    const float tanh_scalar = TanhFloat(x[i]), sigmoid_scalar = SigmoidFloat(x[i]);
    if (std::isnan(x[i])) {
      CHECK(std::isnan(tanh_y[i]));
      CHECK(std::isnan(sigmoid_y[i]));
      CHECK(std::isnan(tanh_scalar));
      CHECK(std::isnan(sigmoid_scalar));
    } else if (std::fabs(x[i]) < 1e-4f) {
      // tanh(x) is x, the sign of zero included; sigmoid is 1/2.
      CHECK(std::memcmp(&tanh_y[i], &x[i], sizeof(float)) == 0);
      CHECK(std::memcmp(&tanh_scalar, &x[i], sizeof(float)) == 0);
      CHECK(sigmoid_y[i] == 0.5f);
      CHECK(sigmoid_scalar == 0.5f);
    } else {
      // |x| >= 20: saturated.
      CHECK(tanh_y[i] == std::copysign(1.f, x[i]));
      CHECK(tanh_scalar == std::copysign(1.f, x[i]));
      if (x[i] > 0) {
        CHECK(sigmoid_y[i] == 1.f);
        CHECK(sigmoid_scalar == 1.f);
      } else if (x[i] <= -88.f) {
        CHECK(sigmoid_y[i] == 0.f);
        CHECK(sigmoid_scalar == 0.f);
      }
    }
  }
  // Sigmoid of -20 keeps its relative accuracy (2.06e-9), unlike 0.5 + 0.5 * tanh(x / 2).
  CHECK(SigmoidFloat(-20.f) == Approx(2.0611536e-9).epsilon(1e-6));
  float y = 0.f, minus20 = -20.f;
  SigmoidFloatArray(&minus20, &y, 1);
  CHECK(y == Approx(2.0611536e-9).epsilon(1e-6));
}

TEST_CASE("every length gives the same values, in place or not, and nothing past the end") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-10.f, 10.f);
  std::vector<float> x(64);
  for (float& v : x) v = dist(rng);
  for (const Activation& a : kActivations) {
    INFO(a.name);
    const std::vector<float> full = Apply(a.array, x);
    for (int64_t n = 0; n <= 40; ++n) {
      INFO("n = " << n);
      const float sentinel = 12345.f;
      std::vector<float> out(n + 8, sentinel);
      a.array(x.data(), out.data(), n);
      std::vector<float> in_place(x.begin(), x.begin() + n);
      in_place.resize(n + 8, sentinel);
      a.array(in_place.data(), in_place.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        CHECK(out[i] == full[i]);
        CHECK(in_place[i] == full[i]);
      }
      for (int64_t i = n; i < n + 8; ++i) {
        CHECK(out[i] == sentinel);
        CHECK(in_place[i] == sentinel);
      }
    }
  }
}

std::vector<float> Values(const Tensor& t) {
  auto v = t.flat<float>();
  return std::vector<float>(v.begin(), v.end());
}

TEST_CASE("the float32 Tanh and Sigmoid kernels compute the array functions") {
  std::mt19937 rng(13);
  for (const Activation& a : kActivations) {
    for (const TensorShape& shape :
         {TensorShape{3, 67}, TensorShape{128, 129}, TensorShape{5}, TensorShape{0, 4}}) {
      INFO(a.name << " " << shape.ToString());
      Tensor x = RandomFloat(shape, rng, -12.f, 12.f);
      absl::StatusOr<std::vector<Tensor>> out =
          RunKernel({a.name, {x}, {{"T", MakeAttr(DT_FLOAT)}}});
      INFO(out.status().message());
      REQUIRE(out.ok());
      CHECK((*out)[0].shape() == shape);
      CHECK(Values((*out)[0]) == Apply(a.array, Values(x)));
    }
  }
}

// The fused op with an activation gives exactly the activation of the fused op without one.
TEST_CASE("fused Tanh and Sigmoid epilogues apply the array functions to the biased result") {
  std::mt19937 rng(19);
  Tensor a = RandomFloat(TensorShape{7, 33}, rng, -2.f, 2.f);
  Tensor b = RandomFloat(TensorShape{33, 21}, rng, -1.f, 1.f);
  Tensor bias = RandomFloat(TensorShape{21}, rng, -2.f, 2.f);
  Tensor input = RandomFloat(TensorShape{2, 7, 6, 5}, rng, -1.f, 1.f);
  Tensor filter = RandomFloat(TensorShape{3, 3, 5, 11}, rng, -1.f, 1.f);
  Tensor conv_bias = RandomFloat(TensorShape{11}, rng, -2.f, 2.f);
  auto matmul = [&](const std::vector<std::string>& ops) {
    return RunKernel({"_FusedMatMul",
                      {a, b, bias},
                      {{"T", MakeAttr(DT_FLOAT)},
                       {"num_args", MakeAttr(int64_t{1})},
                       {"fused_ops", MakeAttr(ops)}}});
  };
  auto conv = [&](const std::vector<std::string>& ops) {
    return RunKernel({"_FusedConv2D",
                      {input, filter, conv_bias},
                      {{"T", MakeAttr(DT_FLOAT)},
                       {"num_args", MakeAttr(int64_t{1})},
                       {"fused_ops", MakeAttr(ops)},
                       {"strides", MakeAttr(std::vector<int64_t>{1, 1, 1, 1})},
                       {"padding", MakeAttr("SAME")},
                       {"TArgs", MakeAttr(std::vector<DataType>{DT_FLOAT})}}});
  };
  for (const Activation& act : kActivations) {
    for (const auto& run : {std::function<absl::StatusOr<std::vector<Tensor>>(
                                const std::vector<std::string>&)>(matmul),
                            std::function<absl::StatusOr<std::vector<Tensor>>(
                                const std::vector<std::string>&)>(conv)}) {
      INFO(act.name);
      absl::StatusOr<std::vector<Tensor>> biased = run({"BiasAdd"});
      absl::StatusOr<std::vector<Tensor>> activated = run({"BiasAdd", act.name});
      REQUIRE(biased.ok());
      REQUIRE(activated.ok());
      CHECK(Values((*activated)[0]) == Apply(act.array, Values((*biased)[0])));
    }
  }
}

}  // namespace
}  // namespace weir
