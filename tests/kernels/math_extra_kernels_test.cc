// math_extra_kernels_test.cc - Tests for kernels/cpu/math_extra_kernels.cc and
// math_extra_reduction_kernels.cc: comparisons, logical ops, Select/SelectV2, the extra unary
// and binary ops, Min/Prod/All/Any/ArgMin, LogSoftmax and the identity-likes, each checked
// against a float64 (or exact) reference computed here on random inputs.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::KernelRun;
using testing::MaxRelativeError;
using testing::RandomFloat;
using testing::RandomInt32;
using testing::RunKernel;

// float32 elementwise results are within a few ulps of the float64 reference; transcendental
// functions (erf, expm1, pow) and sums in LogSoftmax get a little more room.
constexpr double kFloatTolerance = 1e-6;
constexpr double kTranscendentalTolerance = 4e-6;

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> out(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    switch (t.dtype()) {
      case DT_FLOAT: out[i] = t.data<float>()[i]; break;
      case DT_DOUBLE: out[i] = t.data<double>()[i]; break;
      case DT_INT32: out[i] = t.data<int32_t>()[i]; break;
      case DT_INT64: out[i] = static_cast<double>(t.data<int64_t>()[i]); break;
      case DT_BOOL: out[i] = t.data<bool>()[i] ? 1 : 0; break;
      default: FAIL("unexpected dtype " << DataTypeString(t.dtype()));
    }
  }
  return out;
}

Tensor RandomBool(const TensorShape& shape, std::mt19937& rng) {
  Tensor t(DT_BOOL, shape);
  std::bernoulli_distribution dist(0.5);
  for (bool& v : t.flat<bool>()) v = dist(rng);
  return t;
}

std::vector<std::pair<std::string, AttrValue>> TypeAttr(DataType dtype) {
  return {{"T", MakeAttr(dtype)}};
}

// The row-major index into `in` of output coordinate `coord` under NumPy broadcasting.
int64_t SourceIndex(const TensorShape& in, const TensorShape& out,
                    const std::vector<int64_t>& coord) {
  int64_t index = 0;
  for (int i = 0; i < in.rank(); ++i) {
    const int64_t c = coord[out.rank() - in.rank() + i];
    index = index * in.dim(i) + (in.dim(i) == 1 ? 0 : c);
  }
  return index;
}

std::vector<int64_t> Unravel(int64_t n, const TensorShape& shape) {
  std::vector<int64_t> coord(shape.rank());
  for (int i = shape.rank() - 1; i >= 0; --i) {
    coord[i] = n % shape.dim(i);
    n /= shape.dim(i);
  }
  return coord;
}

std::vector<double> ReferenceBinary(const Tensor& x, const Tensor& y, const TensorShape& out,
                                    const std::function<double(double, double)>& f) {
  const std::vector<double> xs = ToDoubles(x), ys = ToDoubles(y);
  std::vector<double> result(out.num_elements());
  for (int64_t n = 0; n < out.num_elements(); ++n) {
    const std::vector<int64_t> coord = Unravel(n, out);
    result[n] = f(xs[SourceIndex(x.shape(), out, coord)], ys[SourceIndex(y.shape(), out, coord)]);
  }
  return result;
}

// Exact comparison of any tensor with expected values given as doubles.
void CheckExact(const Tensor& actual, DataType dtype, const TensorShape& shape,
                const std::vector<double>& expected) {
  REQUIRE(actual.dtype() == dtype);
  REQUIRE(actual.shape() == shape);
  const std::vector<double> values = ToDoubles(actual);
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(values[i] == expected[i]);
  }
}

struct Shapes {
  TensorShape x, y, out;
};

const std::vector<Shapes>& BroadcastShapeCases() {
  static const auto* cases = new std::vector<Shapes>{
      {{3, 4}, {3, 4}, {3, 4}},
      {{}, {3, 4}, {3, 4}},
      {{3, 4}, {}, {3, 4}},
      {{3, 1}, {1, 4}, {3, 4}},
      {{4}, {2, 3, 4}, {2, 3, 4}},
      {{2, 1, 4}, {3, 1}, {2, 3, 4}},
      {{1, 3, 1}, {2, 1, 5}, {2, 3, 5}},
      {{0, 3}, {1, 3}, {0, 3}},
  };
  return *cases;
}

// ---------------------------------------------------------------------------------------------
// Comparisons and logical ops.

struct CompareCase {
  const char* op;
  std::function<bool(double, double)> reference;
};

const std::vector<CompareCase>& CompareCases() {
  static const auto* cases = new std::vector<CompareCase>{
      {"Equal", [](double a, double b) { return a == b; }},
      {"NotEqual", [](double a, double b) { return a != b; }},
      {"Less", [](double a, double b) { return a < b; }},
      {"LessEqual", [](double a, double b) { return a <= b; }},
      {"Greater", [](double a, double b) { return a > b; }},
      {"GreaterEqual", [](double a, double b) { return a >= b; }},
  };
  return *cases;
}

TEST_CASE("comparisons give bool and broadcast like NumPy") {
  std::mt19937 rng(11);
  for (const Shapes& s : BroadcastShapeCases()) {
    for (const CompareCase& c : CompareCases()) {
      for (DataType dtype : {DT_FLOAT, DT_INT32}) {
        INFO(c.op << " " << DataTypeString(dtype) << " " << s.x.ToString() << " with "
                  << s.y.ToString());
        // Small integers make ties (the interesting case for Equal and LessEqual) common.
        Tensor x = dtype == DT_FLOAT ? RandomFloat(s.x, rng) : RandomInt32(s.x, rng, -2, 2);
        Tensor y = dtype == DT_FLOAT ? RandomFloat(s.y, rng) : RandomInt32(s.y, rng, -2, 2);
        if (dtype == DT_FLOAT && x.num_elements() > 0 && y.num_elements() > 0) {
          x.data<float>()[0] = y.data<float>()[0];  // one tie for the float case
        }
        auto out = RunKernel({c.op, {x, y}, TypeAttr(dtype)});
        REQUIRE(out.ok());
        std::vector<double> expected = ReferenceBinary(
            x, y, s.out, [&](double a, double b) { return c.reference(a, b) ? 1.0 : 0.0; });
        CheckExact((*out)[0], DT_BOOL, s.out, expected);
      }
    }
  }
}

TEST_CASE("Equal and NotEqual compare bools and int64") {
  Tensor a = Tensor::FromVector<bool>({true, false, true, false}, {4});
  Tensor b = Tensor::FromVector<bool>({true, true, false, false}, {4});
  auto eq = RunKernel({"Equal", {a, b}, TypeAttr(DT_BOOL)});
  REQUIRE(eq.ok());
  CheckExact((*eq)[0], DT_BOOL, {4}, {1, 0, 0, 1});
  Tensor big = Tensor::FromVector<int64_t>({int64_t{1} << 40, 3}, {2});
  Tensor other = Tensor::FromVector<int64_t>({(int64_t{1} << 40) + 1, 3}, {2});
  auto ne = RunKernel({"NotEqual", {big, other}, TypeAttr(DT_INT64)});
  REQUIRE(ne.ok());
  CheckExact((*ne)[0], DT_BOOL, {2}, {1, 0});
}

TEST_CASE("Equal of shapes that do not broadcast follows incompatible_shape_error") {
  std::mt19937 rng(12);
  Tensor x = RandomFloat({3, 4}, rng);
  Tensor y = RandomFloat({2, 4}, rng);
  auto strict = RunKernel({"Equal", {x, y}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(strict.ok());
  CHECK_THAT(std::string(strict.status().message()),
             Catch::Contains("incompatible shapes: input 0 has shape [3,4], input 1 has shape "
                             "[2,4]"));
  for (auto [op, result] : {std::pair<const char*, double>{"Equal", 0}, {"NotEqual", 1}}) {
    INFO(op);
    auto lenient = RunKernel(
        {op, {x, y}, {{"T", MakeAttr(DT_FLOAT)}, {"incompatible_shape_error", MakeAttr(false)}}});
    REQUIRE(lenient.ok());
    CheckExact((*lenient)[0], DT_BOOL, {}, {result});
  }
}

TEST_CASE("logical ops broadcast bools") {
  std::mt19937 rng(13);
  for (const Shapes& s : BroadcastShapeCases()) {
    INFO(s.x.ToString() << " with " << s.y.ToString());
    Tensor x = RandomBool(s.x, rng);
    Tensor y = RandomBool(s.y, rng);
    auto a = RunKernel({"LogicalAnd", {x, y}, {}});
    REQUIRE(a.ok());
    CheckExact((*a)[0], DT_BOOL, s.out,
               ReferenceBinary(x, y, s.out, [](double p, double q) { return p && q ? 1 : 0; }));
    auto o = RunKernel({"LogicalOr", {x, y}, {}});
    REQUIRE(o.ok());
    CheckExact((*o)[0], DT_BOOL, s.out,
               ReferenceBinary(x, y, s.out, [](double p, double q) { return p || q ? 1 : 0; }));
  }
  Tensor x = RandomBool({5, 3}, rng);
  auto n = RunKernel({"LogicalNot", {x}, {}});
  REQUIRE(n.ok());
  std::vector<double> expected = ToDoubles(x);
  for (double& v : expected) v = 1 - v;
  CheckExact((*n)[0], DT_BOOL, {5, 3}, expected);
}

TEST_CASE("logical ops reject non-bool inputs") {
  std::mt19937 rng(14);
  auto out = RunKernel({"LogicalAnd", {RandomFloat({2}, rng), RandomBool({2}, rng)}, {}});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(std::string(out.status().message()), Catch::Contains("expects bool, found float"));
}

// ---------------------------------------------------------------------------------------------
// Select and SelectV2.

TEST_CASE("Select picks elementwise, by row and whole") {
  std::mt19937 rng(21);
  Tensor t = RandomFloat({4, 3}, rng);
  Tensor e = RandomFloat({4, 3}, rng);
  const std::vector<double> ts = ToDoubles(t), es = ToDoubles(e);
  SECTION("same shape") {
    Tensor cond = RandomBool({4, 3}, rng);
    auto out = RunKernel({"Select", {cond, t, e}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    std::vector<double> expected(12);
    for (int i = 0; i < 12; ++i) expected[i] = cond.data<bool>()[i] ? ts[i] : es[i];
    CheckExact((*out)[0], DT_FLOAT, {4, 3}, expected);
  }
  SECTION("vector condition over rows") {
    Tensor cond = Tensor::FromVector<bool>({true, false, false, true}, {4});
    auto out = RunKernel({"Select", {cond, t, e}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    std::vector<double> expected(12);
    for (int i = 0; i < 12; ++i) expected[i] = cond.data<bool>()[i / 3] ? ts[i] : es[i];
    CheckExact((*out)[0], DT_FLOAT, {4, 3}, expected);
  }
  SECTION("scalar condition") {
    auto out = RunKernel({"Select", {Tensor::Scalar<bool>(false), t, e}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    CheckExact((*out)[0], DT_FLOAT, {4, 3}, es);
  }
  SECTION("int32 vectors") {
    Tensor ti = RandomInt32({5}, rng, -100, 100);
    Tensor ei = RandomInt32({5}, rng, -100, 100);
    Tensor cond = RandomBool({5}, rng);
    auto out = RunKernel({"Select", {cond, ti, ei}, TypeAttr(DT_INT32)});
    REQUIRE(out.ok());
    std::vector<double> expected(5);
    for (int i = 0; i < 5; ++i) {
      expected[i] = cond.data<bool>()[i] ? ti.data<int32_t>()[i] : ei.data<int32_t>()[i];
    }
    CheckExact((*out)[0], DT_INT32, {5}, expected);
  }
}

TEST_CASE("Select rejects mismatched shapes") {
  std::mt19937 rng(22);
  Tensor t = RandomFloat({4, 3}, rng);
  auto te = RunKernel(
      {"Select", {RandomBool({4, 3}, rng), t, RandomFloat({4, 2}, rng)}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(te.ok());
  CHECK_THAT(std::string(te.status().message()),
             Catch::Contains("input 2 (e) has shape [4,2], expected [4,3] (as input 1)"));
  auto rows = RunKernel({"Select", {RandomBool({3}, rng), t, t}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(rows.ok());
  CHECK_THAT(std::string(rows.status().message()),
             Catch::Contains("input 0 (condition) has shape [3], expected [4]"));
  auto full = RunKernel({"Select", {RandomBool({3, 4}, rng), t, t}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(full.ok());
  CHECK_THAT(std::string(full.status().message()),
             Catch::Contains("input 0 (condition) has shape [3,4], expected a scalar, a vector"));
}

TEST_CASE("SelectV2 broadcasts condition, t and e") {
  struct Case {
    TensorShape cond, t, e, out;
  };
  const std::vector<Case> cases = {
      {{2, 3}, {2, 3}, {2, 3}, {2, 3}},
      {{}, {2, 3}, {2, 3}, {2, 3}},
      {{3}, {2, 3}, {}, {2, 3}},
      {{2, 1}, {1, 3}, {3}, {2, 3}},
      {{4, 1, 1}, {2, 1}, {1, 5}, {4, 2, 5}},
      {{1}, {0, 2}, {1, 2}, {0, 2}},
  };
  std::mt19937 rng(23);
  for (const Case& c : cases) {
    INFO(c.cond.ToString() << " " << c.t.ToString() << " " << c.e.ToString());
    Tensor cond = RandomBool(c.cond, rng);
    Tensor t = RandomFloat(c.t, rng);
    Tensor e = RandomFloat(c.e, rng);
    auto out = RunKernel({"SelectV2", {cond, t, e}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    const std::vector<double> cs = ToDoubles(cond), ts = ToDoubles(t), es = ToDoubles(e);
    std::vector<double> expected(c.out.num_elements());
    for (int64_t n = 0; n < c.out.num_elements(); ++n) {
      const std::vector<int64_t> coord = Unravel(n, c.out);
      expected[n] = cs[SourceIndex(c.cond, c.out, coord)] != 0 ? ts[SourceIndex(c.t, c.out, coord)]
                                                               : es[SourceIndex(c.e, c.out, coord)];
    }
    CheckExact((*out)[0], DT_FLOAT, c.out, expected);
  }
  auto bad = RunKernel({"SelectV2",
                        {RandomBool({3}, rng), RandomFloat({2, 4}, rng), RandomFloat({4}, rng)},
                        TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Catch::Contains("incompatible shapes: input 0 has shape [3], input 1 has shape "
                             "[2,4], input 2 has shape [4]"));
}

// ---------------------------------------------------------------------------------------------
// Unary ops.

struct UnaryCase {
  const char* op;
  std::function<double(double)> reference;
  float lo, hi;
  double tolerance;
};

TEST_CASE("unary float ops match the float64 reference") {
  const std::vector<UnaryCase> cases = {
      {"Floor", [](double x) { return std::floor(x); }, -5, 5, 0},
      {"Ceil", [](double x) { return std::ceil(x); }, -5, 5, 0},
      {"Round", [](double x) { return std::nearbyint(x); }, -5, 5, 0},
      {"Abs", [](double x) { return std::abs(x); }, -5, 5, 0},
      {"Sign", [](double x) { return x > 0   ? 1.0
                                     : x < 0 ? -1.0
                                             : 0.0; }, -5, 5, 0},
      {"Erf", [](double x) { return std::erf(x); }, -3, 3, kTranscendentalTolerance},
      {"Reciprocal", [](double x) { return 1 / x; }, 0.1f, 4, kFloatTolerance},
      {"Log1p", [](double x) { return std::log1p(x); }, -0.9f, 4, kFloatTolerance},
      {"Expm1", [](double x) { return std::expm1(x); }, -3, 3, kTranscendentalTolerance},
      {"Sin", [](double x) { return std::sin(x); }, -6, 6, kFloatTolerance},
      {"Cos", [](double x) { return std::cos(x); }, -6, 6, kFloatTolerance},
  };
  std::mt19937 rng(31);
  for (const UnaryCase& c : cases) {
    INFO(c.op);
    Tensor x = RandomFloat({7, 9}, rng, c.lo, c.hi);
    auto out = RunKernel({c.op, {x}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    std::vector<double> expected = ToDoubles(x);
    for (double& v : expected) v = c.reference(v);
    REQUIRE((*out)[0].shape() == x.shape());
    CHECK(MaxRelativeError((*out)[0], expected) <= c.tolerance);
  }
}

// float32 Erf is TensorFlow's rational approximation, vectorized 8 lanes at a time: checked
// over the whole line (past the clamp at +-4), on a length with a loop tail, and on NaN and the
// infinities.
TEST_CASE("float Erf matches the float64 reference everywhere and keeps NaN") {
  std::mt19937 rng(32);
  Tensor x = RandomFloat({1003}, rng, -6.f, 6.f);
  auto out = RunKernel({"Erf", {x}, TypeAttr(DT_FLOAT)});
  REQUIRE(out.ok());
  std::vector<double> expected = ToDoubles(x);
  for (double& v : expected) v = std::erf(v);
  CHECK(MaxRelativeError((*out)[0], expected) <= kTranscendentalTolerance);

  const float inf = std::numeric_limits<float>::infinity();
  Tensor special = Tensor::FromVector<float>(
      {0.f, -0.f, inf, -inf, std::nanf(""), 4.f, -4.f, 1e-30f, 0.5f}, {9});
  out = RunKernel({"Erf", {special}, TypeAttr(DT_FLOAT)});
  REQUIRE(out.ok());
  const float* y = (*out)[0].data<float>();
  CHECK(y[0] == 0.f);
  CHECK(y[1] == 0.f);
  CHECK(y[2] == Approx(1.0).margin(1e-6));
  CHECK(y[3] == Approx(-1.0).margin(1e-6));
  CHECK(std::isnan(y[4]));
  CHECK(y[5] == Approx(1.0).margin(1e-6));
  CHECK(y[6] == Approx(-1.0).margin(1e-6));
  CHECK(std::abs(y[7]) < 1e-29f);
  CHECK(y[8] == Approx(std::erf(0.5)).margin(1e-6));
}

TEST_CASE("Round rounds half to even, Sign(0) is 0 and integer Abs and Sign are exact") {
  Tensor halves =
      Tensor::FromVector<float>({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 2.4f}, {8});
  auto round = RunKernel({"Round", {halves}, TypeAttr(DT_FLOAT)});
  REQUIRE(round.ok());
  CheckExact((*round)[0], DT_FLOAT, {8}, {-2, -2, -0, 0, 2, 2, 4, 2});
  // Sign(NaN) is NaN, as in TensorFlow 2 (TensorFlow 1 gave 0).
  Tensor zeros = Tensor::FromVector<float>({0.f, -0.f, 3.f, std::nanf("")}, {4});
  auto sign = RunKernel({"Sign", {zeros}, TypeAttr(DT_FLOAT)});
  REQUIRE(sign.ok());
  CHECK(std::isnan((*sign)[0].data<float>()[3]));
  zeros = Tensor::FromVector<float>({0.f, -0.f, 3.f}, {3});
  sign = RunKernel({"Sign", {zeros}, TypeAttr(DT_FLOAT)});
  REQUIRE(sign.ok());
  CheckExact((*sign)[0], DT_FLOAT, {3}, {0, 0, 1});
  const int32_t lowest = std::numeric_limits<int32_t>::lowest();
  Tensor ints = Tensor::FromVector<int32_t>({-7, 0, 5, lowest}, {4});
  auto abs = RunKernel({"Abs", {ints}, TypeAttr(DT_INT32)});
  REQUIRE(abs.ok());
  CheckExact((*abs)[0], DT_INT32, {4}, {7, 0, 5, static_cast<double>(lowest)});
  auto isign = RunKernel({"Sign", {ints}, TypeAttr(DT_INT32)});
  REQUIRE(isign.ok());
  CheckExact((*isign)[0], DT_INT32, {4}, {-1, 0, 1, -1});
}

TEST_CASE("float-only unary ops name the dtypes they have") {
  std::mt19937 rng(32);
  auto out = RunKernel({"Reciprocal", {RandomInt32({3}, rng, 1, 5)}, TypeAttr(DT_INT32)});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(std::string(out.status().message()),
             Catch::Contains("no CPU kernel for T=int32 (registered: float, double)"));
}

// ---------------------------------------------------------------------------------------------
// Binary ops.

double FloorMod(double a, double b) {
  const double r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

TEST_CASE("binary float ops match the float64 reference with broadcasting") {
  struct Case {
    const char* op;
    std::function<double(double, double)> reference;
    double tolerance;
  };
  const std::vector<Case> cases = {
      {"Pow", [](double a, double b) { return std::pow(a, b); }, kTranscendentalTolerance},
      {"SquaredDifference", [](double a, double b) { return (a - b) * (a - b); }, kFloatTolerance},
      {"FloorDiv", [](double a, double b) { return std::floor(a / b); }, 0},
      {"FloorMod", FloorMod, 1e-5},  // r is computed from float x and y (cancellation)
      {"Div", [](double a, double b) { return a / b; }, kFloatTolerance},
      {"DivNoNan", [](double a, double b) { return a / b; }, kFloatTolerance},
  };
  std::mt19937 rng(41);
  for (const Shapes& s : BroadcastShapeCases()) {
    for (const Case& c : cases) {
      INFO(c.op << " " << s.x.ToString() << " with " << s.y.ToString());
      const bool pow = std::string(c.op) == "Pow";
      Tensor x = RandomFloat(s.x, rng, pow ? 0.1f : -5.f, 5.f);
      // Divisors of both signs, away from zero.
      Tensor y = RandomFloat(s.y, rng, 0.3f, 3.f);
      for (float& v : y.flat<float>()) {
        if (!pow && std::bernoulli_distribution(0.5)(rng)) v = -v;
      }
      auto out = RunKernel({c.op, {x, y}, TypeAttr(DT_FLOAT)});
      REQUIRE(out.ok());
      REQUIRE((*out)[0].shape() == s.out);
      std::vector<double> expected = ReferenceBinary(x, y, s.out, c.reference);
      if (std::string(c.op) == "FloorDiv") {
        // floor(x / y) of the float32 quotient: compare exactly against it.
        expected = ReferenceBinary(x, y, s.out, [](double a, double b) {
          return std::floor(static_cast<float>(a) / static_cast<float>(b));
        });
      }
      CHECK(MaxRelativeError((*out)[0], expected) <= c.tolerance);
    }
  }
}

TEST_CASE("DivNoNan gives 0 where the divisor is 0") {
  Tensor x = Tensor::FromVector<float>({1.f, 0.f, -3.f, std::nanf("")}, {4});
  Tensor y = Tensor::FromVector<float>({0.f, 0.f, 2.f, 0.f}, {4});
  auto out = RunKernel({"DivNoNan", {x, y}, TypeAttr(DT_FLOAT)});
  REQUIRE(out.ok());
  CheckExact((*out)[0], DT_FLOAT, {4}, {0, 0, -1.5, 0});
}

int64_t FloorDivInt(int64_t a, int64_t b) {
  return static_cast<int64_t>(std::floor(static_cast<double>(a) / static_cast<double>(b)));
}

TEST_CASE("integer Div truncates, FloorDiv and FloorMod floor, Pow is exact") {
  std::mt19937 rng(42);
  for (DataType dtype : {DT_INT32, DT_INT64}) {
    INFO(DataTypeString(dtype));
    Tensor x32 = RandomInt32({6, 5}, rng, -50, 50);
    Tensor y32 = RandomInt32({5}, rng, 1, 7);
    for (int32_t& v : y32.flat<int32_t>()) {
      if (std::bernoulli_distribution(0.5)(rng)) v = -v;
    }
    Tensor x = x32, y = y32;
    if (dtype == DT_INT64) {
      auto widen = [](const Tensor& t) {
        std::vector<int64_t> v(t.data<int32_t>(), t.data<int32_t>() + t.num_elements());
        return Tensor::FromVector<int64_t>(v, t.shape());
      };
      x = widen(x32);
      y = widen(y32);
    }
    const TensorShape out_shape{6, 5};
    auto div = RunKernel({"Div", {x, y}, TypeAttr(dtype)});
    REQUIRE(div.ok());
    CheckExact(
        (*div)[0], dtype, out_shape,
        ReferenceBinary(x, y, out_shape, [](double a, double b) { return std::trunc(a / b); }));
    auto floordiv = RunKernel({"FloorDiv", {x, y}, TypeAttr(dtype)});
    REQUIRE(floordiv.ok());
    CheckExact(
        (*floordiv)[0], dtype, out_shape, ReferenceBinary(x, y, out_shape, [](double a, double b) {
          return static_cast<double>(FloorDivInt(static_cast<int64_t>(a), static_cast<int64_t>(b)));
        }));
    auto floormod = RunKernel({"FloorMod", {x, y}, TypeAttr(dtype)});
    REQUIRE(floormod.ok());
    CheckExact((*floormod)[0], dtype, out_shape, ReferenceBinary(x, y, out_shape, FloorMod));
    auto sqdiff = RunKernel({"SquaredDifference", {x, y}, TypeAttr(dtype)});
    REQUIRE(sqdiff.ok());
    CheckExact(
        (*sqdiff)[0], dtype, out_shape,
        ReferenceBinary(x, y, out_shape, [](double a, double b) { return (a - b) * (a - b); }));
  }
  Tensor base = Tensor::FromVector<int32_t>({2, -3, 0, 7, -1, 5}, {6});
  Tensor exponent = Tensor::FromVector<int32_t>({10, 3, 0, 0, 7, 2}, {6});
  auto pow = RunKernel({"Pow", {base, exponent}, TypeAttr(DT_INT32)});
  REQUIRE(pow.ok());
  CheckExact((*pow)[0], DT_INT32, {6}, {1024, -27, 1, 1, -1, 25});
}

TEST_CASE("integer division by zero and negative integer powers are errors") {
  Tensor x = Tensor::FromVector<int32_t>({4, 5, 6}, {3});
  Tensor y = Tensor::FromVector<int32_t>({1, 0, 2}, {3});
  for (const char* op : {"Div", "FloorDiv", "FloorMod"}) {
    INFO(op);
    auto out = RunKernel({op, {x, y}, TypeAttr(DT_INT32)});
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("integer division by zero: input 1 (y) holds 0 at index 1"));
  }
  auto pow =
      RunKernel({"Pow", {x, Tensor::FromVector<int32_t>({2, -1, 0}, {3})}, TypeAttr(DT_INT32)});
  REQUIRE_FALSE(pow.ok());
  CHECK_THAT(std::string(pow.status().message()),
             Catch::Contains("integers to negative integer powers are not allowed: input 1 (y) "
                             "holds -1 at index 1"));
  // lowest / -1 wraps instead of trapping.
  const int32_t lowest = std::numeric_limits<int32_t>::lowest();
  auto wrap = RunKernel(
      {"FloorDiv",
       {Tensor::FromVector<int32_t>({lowest}, {1}), Tensor::FromVector<int32_t>({-1}, {1})},
       TypeAttr(DT_INT32)});
  REQUIRE(wrap.ok());
  CheckExact((*wrap)[0], DT_INT32, {1}, {static_cast<double>(lowest)});
}

// ---------------------------------------------------------------------------------------------
// Reductions and LogSoftmax.

// Reduces `x` over `axes` (possibly negative) with `combine`, starting from `init`.
std::vector<double> ReferenceReduce(const Tensor& x, const std::vector<int>& axes,
                                    const std::function<double(double, double)>& combine,
                                    double init, TensorShape* out_shape, bool keep_dims) {
  const int rank = x.rank();
  std::set<int> reduced;
  for (int a : axes) reduced.insert(a < 0 ? a + rank : a);
  *out_shape = TensorShape();
  TensorShape full;  // the output shape with kept size-1 dims, for indexing
  for (int i = 0; i < rank; ++i) {
    const bool r = reduced.count(i) > 0;
    full.AddDim(r ? 1 : x.dim(i));
    if (!r || keep_dims) out_shape->AddDim(r ? 1 : x.dim(i));
  }
  std::vector<double> out(full.num_elements(), init);
  const std::vector<double> xs = ToDoubles(x);
  for (int64_t n = 0; n < x.num_elements(); ++n) {
    const std::vector<int64_t> coord = Unravel(n, x.shape());
    int64_t o = 0;
    for (int i = 0; i < rank; ++i) o = o * full.dim(i) + (reduced.count(i) ? 0 : coord[i]);
    out[o] = combine(out[o], xs[n]);
  }
  return out;
}

Tensor Axes(const std::vector<int>& axes) {
  return Tensor::FromVector<int32_t>(std::vector<int32_t>(axes.begin(), axes.end()),
                                     {static_cast<int64_t>(axes.size())});
}

TEST_CASE("Min and Prod match the reference over negative axes, with and without keep_dims") {
  const std::vector<std::vector<int>> axis_sets = {{0}, {-1}, {1, -1}, {0, 2}, {-3, -2, -1}, {}};
  std::mt19937 rng(51);
  for (const char* op : {"Min", "Prod"}) {
    const bool min = std::string(op) == "Min";
    auto combine = [min](double a, double b) { return min ? std::min(a, b) : a * b; };
    const double init = min ? std::numeric_limits<double>::infinity() : 1.0;
    for (const std::vector<int>& axes : axis_sets) {
      for (bool keep_dims : {false, true}) {
        INFO(op << " axes " << axes.size() << (axes.empty() ? 0 : axes[0]) << " keep_dims "
                << keep_dims);
        // Values near 1 keep products of up to 60 factors well scaled.
        Tensor x = RandomFloat({3, 4, 5}, rng, 0.5f, 1.5f);
        for (float& v : x.flat<float>()) {
          if (std::bernoulli_distribution(0.3)(rng)) v = -v;
        }
        TensorShape shape;
        std::vector<double> expected = ReferenceReduce(x, axes, combine, init, &shape, keep_dims);
        auto out = RunKernel(
            {op, {x, Axes(axes)}, {{"T", MakeAttr(DT_FLOAT)}, {"keep_dims", MakeAttr(keep_dims)}}});
        REQUIRE(out.ok());
        REQUIRE((*out)[0].shape() == shape);
        CHECK(MaxRelativeError((*out)[0], expected) <= (min ? 0 : 1e-6));
      }
    }
  }
}

TEST_CASE("integer Min and Prod are exact; empty reductions give the identity") {
  std::mt19937 rng(52);
  Tensor x = RandomInt32({4, 6}, rng, -3, 3);
  TensorShape shape;
  auto min = RunKernel({"Min", {x, Axes({-1})}, TypeAttr(DT_INT32)});
  REQUIRE(min.ok());
  CheckExact((*min)[0], DT_INT32, {4},
             ReferenceReduce(
                 x, {-1}, [](double a, double b) { return std::min(a, b); }, 1e9, &shape, false));
  auto prod = RunKernel({"Prod", {x, Axes({0})}, TypeAttr(DT_INT32)});
  REQUIRE(prod.ok());
  CheckExact((*prod)[0], DT_INT32, {6},
             ReferenceReduce(
                 x, {0}, [](double a, double b) { return a * b; }, 1, &shape, false));
  Tensor empty(DT_FLOAT, TensorShape{0, 3});
  auto empty_prod = RunKernel({"Prod", {empty, Axes({0})}, TypeAttr(DT_FLOAT)});
  REQUIRE(empty_prod.ok());
  CheckExact((*empty_prod)[0], DT_FLOAT, {3}, {1, 1, 1});
  auto empty_min = RunKernel({"Min", {empty, Axes({0})}, TypeAttr(DT_FLOAT)});
  REQUIRE(empty_min.ok());
  const double inf = std::numeric_limits<double>::infinity();
  CheckExact((*empty_min)[0], DT_FLOAT, {3}, {inf, inf, inf});
}

TEST_CASE("All and Any reduce bools over negative axes") {
  std::mt19937 rng(53);
  for (const std::vector<int>& axes :
       std::vector<std::vector<int>>{{0}, {-1}, {0, -1}, {1}, {-3, 2}}) {
    for (bool keep_dims : {false, true}) {
      INFO("axes " << axes[0] << " of " << axes.size() << " keep_dims " << keep_dims);
      // Mostly-true input so that All is not always false.
      Tensor x(DT_BOOL, TensorShape{2, 3, 4});
      std::bernoulli_distribution dist(0.85);
      for (bool& v : x.flat<bool>()) v = dist(rng);
      TensorShape shape;
      auto all = RunKernel({"All", {x, Axes(axes)}, {{"keep_dims", MakeAttr(keep_dims)}}});
      REQUIRE(all.ok());
      CheckExact(
          (*all)[0], DT_BOOL, shape,
          ReferenceReduce(
              x, axes, [](double a, double b) { return a && b ? 1 : 0; }, 1, &shape, keep_dims));
      for (bool& v : x.flat<bool>()) v = !v;  // mostly false for Any
      auto any_false = RunKernel({"Any", {x, Axes(axes)}, {{"keep_dims", MakeAttr(keep_dims)}}});
      REQUIRE(any_false.ok());
      CheckExact(
          (*any_false)[0], DT_BOOL, shape,
          ReferenceReduce(
              x, axes, [](double a, double b) { return a || b ? 1 : 0; }, 0, &shape, keep_dims));
    }
  }
}

TEST_CASE("reductions reject out-of-range axes") {
  std::mt19937 rng(54);
  auto out = RunKernel({"Min", {RandomFloat({2, 3}, rng), Axes({2})}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(std::string(out.status().message()),
             Catch::Contains("axis 2 is out of range for input 0 of shape [2,3] (expected in "
                             "[-2, 2))"));
}

TEST_CASE("ArgMin finds the first smallest value along a possibly negative axis") {
  std::mt19937 rng(55);
  Tensor x = RandomInt32({3, 4, 5}, rng, -3, 3);  // small range: ties pick the first index
  for (int axis : {0, 1, 2, -1, -3}) {
    for (DataType out_type : {DT_INT32, DT_INT64}) {
      INFO("axis " << axis << " " << DataTypeString(out_type));
      const int a = axis < 0 ? axis + 3 : axis;
      TensorShape shape;
      for (int i = 0; i < 3; ++i) {
        if (i != a) shape.AddDim(x.dim(i));
      }
      std::vector<double> expected(shape.num_elements());
      std::vector<double> best(shape.num_elements(), 1e9);
      const std::vector<double> xs = ToDoubles(x);
      for (int64_t n = 0; n < x.num_elements(); ++n) {
        const std::vector<int64_t> c = Unravel(n, x.shape());
        int64_t o = 0;
        for (int i = 0; i < 3; ++i) {
          if (i != a) o = o * x.dim(i) + c[i];
        }
        if (xs[n] < best[o]) {
          best[o] = xs[n];
          expected[o] = static_cast<double>(c[a]);
        }
      }
      auto out = RunKernel({"ArgMin",
                            {x, Tensor::Scalar<int32_t>(axis)},
                            {{"T", MakeAttr(DT_INT32)}, {"output_type", MakeAttr(out_type)}}});
      REQUIRE(out.ok());
      CheckExact((*out)[0], out_type, shape, expected);
    }
  }
  auto empty = RunKernel({"ArgMin",
                          {Tensor(DT_FLOAT, TensorShape{2, 0}), Tensor::Scalar<int32_t>(1)},
                          TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(empty.ok());
  CHECK_THAT(std::string(empty.status().message()),
             Catch::Contains("expected a non-empty dimension 1 to take the argmin over"));
}

TEST_CASE("LogSoftmax matches the float64 reference over the last axis") {
  std::mt19937 rng(56);
  for (const TensorShape& shape : {TensorShape{7}, TensorShape{3, 10}, TensorShape{2, 3, 4}}) {
    INFO(shape.ToString());
    Tensor x = RandomFloat(shape, rng, -10.f, 10.f);
    auto out = RunKernel({"LogSoftmax", {x}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    const std::vector<double> xs = ToDoubles(x);
    const int64_t depth = shape.dim(shape.rank() - 1);
    std::vector<double> expected(xs.size());
    for (size_t r = 0; r < xs.size() / depth; ++r) {
      double sum = 0;
      for (int64_t i = 0; i < depth; ++i) sum += std::exp(xs[r * depth + i]);
      for (int64_t i = 0; i < depth; ++i)
        expected[r * depth + i] = xs[r * depth + i] - std::log(sum);
    }
    CHECK(MaxRelativeError((*out)[0], expected) <= kTranscendentalTolerance);
  }
  auto scalar = RunKernel({"LogSoftmax", {Tensor::Scalar<float>(1.f)}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(scalar.ok());
  CHECK_THAT(std::string(scalar.status().message()), Catch::Contains("expected rank >= 1"));
}

// ---------------------------------------------------------------------------------------------
// Identity-likes, Rank and Size.

TEST_CASE("identity-likes forward their inputs") {
  std::mt19937 rng(61);
  Tensor x = RandomFloat({2, 3}, rng);
  for (const char* op : {"StopGradient", "PreventGradient", "Snapshot"}) {
    INFO(op);
    auto out = RunKernel({op, {x}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    CheckExact((*out)[0], DT_FLOAT, {2, 3}, ToDoubles(x));
  }
  Tensor i = RandomInt32({4}, rng, -9, 9);
  auto n = RunKernel(
      {"IdentityN", {x, i}, {{"T", MakeAttr(std::vector<DataType>{DT_FLOAT, DT_INT32})}}});
  REQUIRE(n.ok());
  REQUIRE(n->size() == 2);
  CheckExact((*n)[0], DT_FLOAT, {2, 3}, ToDoubles(x));
  CheckExact((*n)[1], DT_INT32, {4}, ToDoubles(i));
}

TEST_CASE("Rank and Size describe the input") {
  std::mt19937 rng(62);
  Tensor x = RandomFloat({2, 3, 5}, rng);
  auto rank = RunKernel({"Rank", {x}, TypeAttr(DT_FLOAT)});
  REQUIRE(rank.ok());
  CheckExact((*rank)[0], DT_INT32, {}, {3});
  auto size = RunKernel({"Size", {x}, TypeAttr(DT_FLOAT)});
  REQUIRE(size.ok());
  CheckExact((*size)[0], DT_INT32, {}, {30});
  auto size64 =
      RunKernel({"Size", {x}, {{"T", MakeAttr(DT_FLOAT)}, {"out_type", MakeAttr(DT_INT64)}}});
  REQUIRE(size64.ok());
  CheckExact((*size64)[0], DT_INT64, {}, {30});
  auto bad =
      RunKernel({"Size", {x}, {{"T", MakeAttr(DT_FLOAT)}, {"out_type", MakeAttr(DT_FLOAT)}}});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("attr 'out_type' is float"));
}

}  // namespace
}  // namespace weir
