// elementwise_test.cc - Tests for kernels/cpu/elementwise.cc: unary and binary ops (with
// broadcasting), AddN and Cast, each checked against a float64 reference on random inputs.
#include <cmath>
#include <functional>
#include <random>
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

// float32 elementwise results are within a few ulps of the float64 reference.
constexpr double kFloatTolerance = 1e-6;

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> out(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    switch (t.dtype()) {
      case DT_FLOAT: out[i] = t.data<float>()[i]; break;
      case DT_DOUBLE: out[i] = t.data<double>()[i]; break;
      case DT_INT32: out[i] = t.data<int32_t>()[i]; break;
      case DT_INT64: out[i] = static_cast<double>(t.data<int64_t>()[i]); break;
      case DT_UINT8: out[i] = t.data<uint8_t>()[i]; break;
      case DT_BOOL: out[i] = t.data<bool>()[i] ? 1 : 0; break;
      default: FAIL("unexpected dtype " << DataTypeString(t.dtype()));
    }
  }
  return out;
}

Tensor RandomDouble(const TensorShape& shape, std::mt19937& rng, double lo, double hi) {
  Tensor t(DT_DOUBLE, shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double& v : t.flat<double>()) v = dist(rng);
  return t;
}

Tensor RandomInt64(const TensorShape& shape, std::mt19937& rng, int64_t lo, int64_t hi) {
  Tensor t(DT_INT64, shape);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int64_t& v : t.flat<int64_t>()) v = dist(rng);
  return t;
}

// NumPy broadcasting by unraveling each output index (independent of the kernel's strides).
std::vector<double> ReferenceBinary(const Tensor& x, const Tensor& y, const TensorShape& out,
                                    const std::function<double(double, double)>& f) {
  const std::vector<double> xs = ToDoubles(x), ys = ToDoubles(y);
  auto source_index = [&](const TensorShape& in, std::vector<int64_t> coord) {
    int64_t index = 0;
    for (int i = 0; i < in.rank(); ++i) {
      const int64_t c = coord[out.rank() - in.rank() + i];
      index = index * in.dim(i) + (in.dim(i) == 1 ? 0 : c);
    }
    return index;
  };
  std::vector<double> result(out.num_elements());
  std::vector<int64_t> coord(out.rank());
  for (int64_t n = 0; n < out.num_elements(); ++n) {
    int64_t rest = n;
    for (int i = out.rank() - 1; i >= 0; --i) {
      coord[i] = rest % out.dim(i);
      rest /= out.dim(i);
    }
    result[n] = f(xs[source_index(x.shape(), coord)], ys[source_index(y.shape(), coord)]);
  }
  return result;
}

std::vector<double> ReferenceUnary(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<double> out = ToDoubles(x);
  for (double& v : out) v = f(v);
  return out;
}

std::vector<std::pair<std::string, AttrValue>> TypeAttr(DataType dtype) {
  return {{"T", MakeAttr(dtype)}};
}

struct BinaryCase {
  const char* op;
  std::function<double(double, double)> reference;
};

const std::vector<BinaryCase>& FloatBinaryCases() {
  static const auto* cases = new std::vector<BinaryCase>{
      {"Add", [](double a, double b) { return a + b; }},
      {"AddV2", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"RealDiv", [](double a, double b) { return a / b; }},
      {"Maximum", [](double a, double b) { return std::max(a, b); }},
      {"Minimum", [](double a, double b) { return std::min(a, b); }},
  };
  return *cases;
}

TEST_CASE("binary float ops match the float64 reference on equal shapes") {
  std::mt19937 rng(1);
  for (const BinaryCase& c : FloatBinaryCases()) {
    INFO(c.op);
    Tensor x = RandomFloat({4, 5}, rng, -2.f, 2.f);
    // Keep denominators away from zero so RealDiv is well conditioned.
    Tensor y = RandomFloat({4, 5}, rng, 0.5f, 2.f);
    auto out = RunKernel({c.op, {x, y}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    REQUIRE((*out)[0].shape() == TensorShape({4, 5}));
    CHECK(MaxRelativeError((*out)[0], ReferenceBinary(x, y, {4, 5}, c.reference)) <
          kFloatTolerance);
  }
}

TEST_CASE("binary float ops broadcast like NumPy") {
  struct Shapes {
    TensorShape x, y, out;
  };
  const std::vector<Shapes> shapes = {
      {{}, {3, 4}, {3, 4}},                   // scalar with tensor
      {{3, 4}, {}, {3, 4}},                   // tensor with scalar
      {{3, 1}, {1, 4}, {3, 4}},               // size-1 dims on both sides
      {{4}, {2, 3, 4}, {2, 3, 4}},            // rank mismatch, trailing dims match
      {{2, 1, 4}, {3, 1}, {2, 3, 4}},         // rank mismatch with size-1 dims
      {{2, 3, 4}, {2, 1, 4}, {2, 3, 4}},      // middle dim broadcast
      {{1, 3, 1}, {2, 1, 5}, {2, 3, 5}},      // alternating
      {{5, 1, 1, 3}, {4, 1}, {5, 1, 4, 3}},   // size-1 output dim kept
      {{2, 3, 4, 5}, {3, 1, 5}, {2, 3, 4, 5}},
      {{1, 1}, {1, 1}, {1, 1}},
      {{0, 3}, {1, 3}, {0, 3}},               // empty result
  };
  std::mt19937 rng(2);
  for (const Shapes& s : shapes) {
    for (const BinaryCase& c : FloatBinaryCases()) {
      INFO(c.op << " " << s.x.ToString() << " with " << s.y.ToString());
      Tensor x = RandomFloat(s.x, rng, -2.f, 2.f);
      Tensor y = RandomFloat(s.y, rng, 0.5f, 2.f);
      auto out = RunKernel({c.op, {x, y}, TypeAttr(DT_FLOAT)});
      REQUIRE(out.ok());
      REQUIRE((*out)[0].shape() == s.out);
      CHECK(MaxRelativeError((*out)[0], ReferenceBinary(x, y, s.out, c.reference)) <
            kFloatTolerance);
    }
  }
}

// The vectorized loops (kernels/cpu/simd.h) on the layouts the BERT benchmark runs, with
// lengths that are not multiples of the vector width so the loop tails run too.
TEST_CASE("binary float ops broadcast like NumPy on long rows and vector tails") {
  struct Shapes {
    TensorShape x, y, out;
  };
  const std::vector<Shapes> shapes = {
      {{4, 3, 16, 16}, {4, 1, 1, 16}, {4, 3, 16, 16}},  // attention mask
      {{4, 16, 64}, {4, 16, 1}, {4, 16, 64}},           // x - mean(x)
      {{4, 16, 64}, {64}, {4, 16, 64}},                 // gamma, beta
      {{2, 3, 37}, {}, {2, 3, 37}},                     // scalar on the right
      {{}, {2, 3, 37}, {2, 3, 37}},                     // scalar on the left
      {{3, 1, 29}, {3, 5, 1}, {3, 5, 29}},              // both broadcast
      {{1029}, {1029}, {1029}},                         // equal shapes, odd length
  };
  std::mt19937 rng(7);
  for (const Shapes& s : shapes) {
    for (const BinaryCase& c : FloatBinaryCases()) {
      INFO(c.op << " " << s.x.ToString() << " with " << s.y.ToString());
      Tensor x = RandomFloat(s.x, rng, -2.f, 2.f);
      Tensor y = RandomFloat(s.y, rng, 0.5f, 2.f);
      auto out = RunKernel({c.op, {x, y}, TypeAttr(DT_FLOAT)});
      REQUIRE(out.ok());
      REQUIRE((*out)[0].shape() == s.out);
      CHECK(MaxRelativeError((*out)[0], ReferenceBinary(x, y, s.out, c.reference)) <
            kFloatTolerance);
    }
  }
}

TEST_CASE("binary ops reject incompatible shapes") {
  std::mt19937 rng(3);
  auto out = RunKernel(
      {"Add", {RandomFloat({3, 4}, rng), RandomFloat({2, 4}, rng)}, TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE_THAT(std::string(out.status().message()),
               Catch::Contains("incompatible shapes: input 0 has shape [3,4], input 1 has shape "
                               "[2,4]"));
}

TEST_CASE("binary ops reject a second input of another dtype") {
  std::mt19937 rng(4);
  auto out = RunKernel({"Mul", {RandomFloat({3}, rng), RandomInt32({3}, rng, 1, 5)},
                        TypeAttr(DT_FLOAT)});
  REQUIRE_FALSE(out.ok());
  REQUIRE_THAT(std::string(out.status().message()),
               Catch::Contains("input 1 expects float, found int32"));
}

TEST_CASE("integer binary ops are exact, with broadcasting") {
  std::mt19937 rng(5);
  const std::vector<BinaryCase> cases = {
      {"Add", [](double a, double b) { return a + b; }},
      {"AddV2", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"Maximum", [](double a, double b) { return std::max(a, b); }},
      {"Minimum", [](double a, double b) { return std::min(a, b); }},
  };
  for (const BinaryCase& c : cases) {
    INFO(c.op);
    Tensor x32 = RandomInt32({2, 3, 4}, rng, -1000, 1000);
    Tensor y32 = RandomInt32({3, 1}, rng, -1000, 1000);
    auto out32 = RunKernel({c.op, {x32, y32}, TypeAttr(DT_INT32)});
    REQUIRE(out32.ok());
    REQUIRE((*out32)[0].dtype() == DT_INT32);
    CHECK(ToDoubles((*out32)[0]) == ReferenceBinary(x32, y32, {2, 3, 4}, c.reference));

    Tensor x64 = RandomInt64({5}, rng, -(int64_t{1} << 40), int64_t{1} << 40);
    Tensor y64 = RandomInt64({}, rng, -1000, 1000);
    auto out64 = RunKernel({c.op, {x64, y64}, TypeAttr(DT_INT64)});
    REQUIRE(out64.ok());
    CHECK(ToDoubles((*out64)[0]) == ReferenceBinary(x64, y64, {5}, c.reference));
  }
}

TEST_CASE("double binary ops match the reference to double precision") {
  std::mt19937 rng(6);
  Tensor x = RandomDouble({3, 4}, rng, -2, 2);
  Tensor y = RandomDouble({4}, rng, 0.5, 2);
  auto out = RunKernel({"RealDiv", {x, y}, TypeAttr(DT_DOUBLE)});
  REQUIRE(out.ok());
  CHECK(MaxRelativeError((*out)[0], ReferenceBinary(x, y, {3, 4}, std::divides<double>())) <
        1e-15);
}

TEST_CASE("Maximum and Minimum propagate NaN") {
  Tensor x = Tensor::FromVector<float>({NAN, 1.f, 2.f}, {3});
  Tensor y = Tensor::FromVector<float>({0.f, NAN, 3.f}, {3});
  for (const char* op : {"Maximum", "Minimum"}) {
    INFO(op);
    auto out = RunKernel({op, {x, y}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    const float* z = (*out)[0].data<float>();
    CHECK(std::isnan(z[0]));
    CHECK(std::isnan(z[1]));
    CHECK(z[2] == (std::string(op) == "Maximum" ? 3.f : 2.f));
  }
}

TEST_CASE("unary float ops match the float64 reference") {
  struct UnaryCase {
    const char* op;
    std::function<double(double)> reference;
    float lo, hi;
  };
  const std::vector<UnaryCase> cases = {
      {"Neg", [](double x) { return -x; }, -3, 3},
      {"Sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, -10, 10},
      {"Tanh", [](double x) { return std::tanh(x); }, -4, 4},
      {"Exp", [](double x) { return std::exp(x); }, -5, 5},
      {"Log", [](double x) { return std::log(x); }, 0.01f, 10},
      {"Sqrt", [](double x) { return std::sqrt(x); }, 0, 10},
      {"Rsqrt", [](double x) { return 1 / std::sqrt(x); }, 0.01f, 10},
      {"Square", [](double x) { return x * x; }, -3, 3},
  };
  std::mt19937 rng(7);
  for (const UnaryCase& c : cases) {
    INFO(c.op);
    Tensor x = RandomFloat({3, 7, 5}, rng, c.lo, c.hi);
    auto out = RunKernel({c.op, {x}, TypeAttr(DT_FLOAT)});
    REQUIRE(out.ok());
    REQUIRE((*out)[0].shape() == x.shape());
    CHECK(MaxRelativeError((*out)[0], ReferenceUnary(x, c.reference)) < kFloatTolerance);

    Tensor xd = RandomDouble({6}, rng, c.lo, c.hi);
    auto outd = RunKernel({c.op, {xd}, TypeAttr(DT_DOUBLE)});
    REQUIRE(outd.ok());
    CHECK(MaxRelativeError((*outd)[0], ReferenceUnary(xd, c.reference)) < 1e-14);
  }
}

TEST_CASE("integer Neg and Square are exact") {
  std::mt19937 rng(8);
  Tensor x = RandomInt32({4, 4}, rng, -30000, 30000);
  auto neg = RunKernel({"Neg", {x}, TypeAttr(DT_INT32)});
  REQUIRE(neg.ok());
  CHECK(ToDoubles((*neg)[0]) == ReferenceUnary(x, [](double v) { return -v; }));
  auto square = RunKernel({"Square", {x}, TypeAttr(DT_INT32)});
  REQUIRE(square.ok());
  CHECK(ToDoubles((*square)[0]) == ReferenceUnary(x, [](double v) { return v * v; }));
}

TEST_CASE("unary ops without a kernel for the dtype say which dtypes exist") {
  std::mt19937 rng(9);
  // int32 is in Square's op signature but Sigmoid's signature refuses it outright.
  auto sigmoid = RunKernel({"Sigmoid", {RandomInt32({2}, rng, 0, 3)}, TypeAttr(DT_INT32)});
  REQUIRE_FALSE(sigmoid.ok());
  REQUIRE_THAT(std::string(sigmoid.status().message()),
               Catch::Contains("attr 'T' is int32, expected one of {"));
  Tensor u8(DT_UINT8, {2});
  u8.data<uint8_t>()[0] = 1;
  u8.data<uint8_t>()[1] = 2;
  auto square = RunKernel({"Square", {u8}, TypeAttr(DT_UINT8)});
  REQUIRE_FALSE(square.ok());
  REQUIRE_THAT(std::string(square.status().message()),
               Catch::Contains("no CPU kernel for T=uint8 (registered: ") &&
                   Catch::Contains("float") && Catch::Contains("double") &&
                   Catch::Contains("int32") && Catch::Contains("int64"));
}

TEST_CASE("AddN sums N tensors") {
  std::mt19937 rng(10);
  std::vector<Tensor> inputs;
  for (int i = 0; i < 4; ++i) inputs.push_back(RandomFloat({3, 5}, rng, -1.f, 1.f));
  auto out = RunKernel({"AddN", inputs, {{"T", MakeAttr(DT_FLOAT)}, {"N", MakeAttr(4)}}});
  REQUIRE(out.ok());
  std::vector<double> expected(15, 0.0);
  for (const Tensor& t : inputs) {
    std::vector<double> v = ToDoubles(t);
    for (int i = 0; i < 15; ++i) expected[i] += v[i];
  }
  CHECK(MaxRelativeError((*out)[0], expected) < kFloatTolerance);

  Tensor a = RandomInt32({6}, rng, -100, 100);
  Tensor b = RandomInt32({6}, rng, -100, 100);
  auto ints = RunKernel({"AddN", {a, b}, {{"T", MakeAttr(DT_INT32)}, {"N", MakeAttr(2)}}});
  REQUIRE(ints.ok());
  CHECK(ToDoubles((*ints)[0]) == ReferenceBinary(a, b, {6}, std::plus<double>()));

  auto single = RunKernel({"AddN", {a}, {{"T", MakeAttr(DT_INT32)}, {"N", MakeAttr(1)}}});
  REQUIRE(single.ok());
  CHECK(ToDoubles((*single)[0]) == ToDoubles(a));
}

TEST_CASE("AddN rejects mismatched shapes and a wrong dtype list") {
  std::mt19937 rng(11);
  auto shapes = RunKernel({"AddN",
                           {RandomFloat({2, 3}, rng), RandomFloat({3, 2}, rng)},
                           {{"T", MakeAttr(DT_FLOAT)}, {"N", MakeAttr(2)}}});
  REQUIRE_FALSE(shapes.ok());
  REQUIRE_THAT(std::string(shapes.status().message()),
               Catch::Contains("input 1 has shape [3,2], expected [2,3]"));

  auto dtypes = RunKernel({"AddN",
                           {RandomFloat({2}, rng), RandomInt32({2}, rng, 0, 9)},
                           {{"T", MakeAttr(DT_FLOAT)}, {"N", MakeAttr(2)}}});
  REQUIRE_FALSE(dtypes.ok());
  REQUIRE_THAT(std::string(dtypes.status().message()),
               Catch::Contains("input 1 expects float, found int32"));

  auto zero = RunKernel({"AddN", {}, {{"T", MakeAttr(DT_FLOAT)}, {"N", MakeAttr(0)}}});
  REQUIRE_FALSE(zero.ok());
  REQUIRE_THAT(std::string(zero.status().message()),
               Catch::Contains("attr 'N' is 0, expected >= 1"));
}

std::vector<std::pair<std::string, AttrValue>> CastAttrs(DataType src, DataType dst) {
  return {{"SrcT", MakeAttr(src)}, {"DstT", MakeAttr(dst)}};
}

TEST_CASE("Cast converts between float, double, int32, int64, uint8 and bool") {
  Tensor f = Tensor::FromVector<float>({-2.75f, -0.5f, 0.f, 0.5f, 1.f, 3.99f, 255.f}, {7});
  SECTION("float to int32 truncates toward zero") {
    auto out = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_INT32)});
    REQUIRE(out.ok());
    REQUIRE((*out)[0].dtype() == DT_INT32);
    CHECK(ToDoubles((*out)[0]) == std::vector<double>{-2, 0, 0, 0, 1, 3, 255});
  }
  SECTION("float to bool is nonzero") {
    auto out = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_BOOL)});
    REQUIRE(out.ok());
    CHECK(ToDoubles((*out)[0]) == std::vector<double>{1, 1, 0, 1, 1, 1, 1});
  }
  SECTION("float to double and back is exact") {
    auto d = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_DOUBLE)});
    REQUIRE(d.ok());
    REQUIRE((*d)[0].dtype() == DT_DOUBLE);
    CHECK(ToDoubles((*d)[0]) == ToDoubles(f));
    auto back = RunKernel({"Cast", {(*d)[0]}, CastAttrs(DT_DOUBLE, DT_FLOAT)});
    REQUIRE(back.ok());
    CHECK(ToDoubles((*back)[0]) == ToDoubles(f));
  }
  SECTION("float to uint8") {
    Tensor pos = Tensor::FromVector<float>({0.f, 1.5f, 200.9f}, {3});
    auto out = RunKernel({"Cast", {pos}, CastAttrs(DT_FLOAT, DT_UINT8)});
    REQUIRE(out.ok());
    CHECK(ToDoubles((*out)[0]) == std::vector<double>{0, 1, 200});
  }
  SECTION("random int32 to float, int64 and double") {
    std::mt19937 rng(12);
    Tensor x = RandomInt32({4, 6}, rng, -100000, 100000);
    for (DataType dst : {DT_FLOAT, DT_INT64, DT_DOUBLE}) {
      INFO(DataTypeString(dst));
      auto out = RunKernel({"Cast", {x}, CastAttrs(DT_INT32, dst)});
      REQUIRE(out.ok());
      REQUIRE((*out)[0].dtype() == dst);
      REQUIRE((*out)[0].shape() == x.shape());
      CHECK(ToDoubles((*out)[0]) == ToDoubles(x));
    }
  }
  SECTION("bool and uint8 to float and int64") {
    Tensor b = Tensor::FromVector<bool>({true, false, true}, {3});
    auto bf = RunKernel({"Cast", {b}, CastAttrs(DT_BOOL, DT_FLOAT)});
    REQUIRE(bf.ok());
    CHECK(ToDoubles((*bf)[0]) == std::vector<double>{1, 0, 1});
    Tensor u = Tensor::FromVector<uint8_t>({0, 7, 255}, {3});
    auto ui = RunKernel({"Cast", {u}, CastAttrs(DT_UINT8, DT_INT64)});
    REQUIRE(ui.ok());
    CHECK(ToDoubles((*ui)[0]) == std::vector<double>{0, 7, 255});
  }
  SECTION("same dtype forwards the input") {
    auto out = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_FLOAT)});
    REQUIRE(out.ok());
    CHECK((*out)[0].SharesBufferWith(f));
  }
}

TEST_CASE("Cast to an unsupported dtype names the pair") {
  Tensor f = Tensor::FromVector<float>({1.f}, {1});
  auto out = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_INT16)});
  REQUIRE_FALSE(out.ok());
  REQUIRE_THAT(std::string(out.status().message()),
               Catch::Contains("no CPU kernel to cast float to int16"));
}

// Half-precision tensors hold raw uint16 bits.
Tensor Bits(DataType dtype, const std::vector<uint16_t>& bits) {
  Tensor t(dtype, {static_cast<int64_t>(bits.size())});
  for (size_t i = 0; i < bits.size(); ++i) t.data<uint16_t>()[i] = bits[i];
  return t;
}

TEST_CASE("Cast between float16/bfloat16 and float follows IEEE rounding") {
  SECTION("float16 bit patterns to float") {
    // 1, -2, 65504 (largest), 2^-14 (smallest normal), 2^-24 (smallest subnormal), 3 * 2^-24,
    // +inf, -0.
    auto out = RunKernel({"Cast", {Bits(DT_HALF, {0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x0003,
                                                  0x7c00, 0x8000})},
                          CastAttrs(DT_HALF, DT_FLOAT)});
    REQUIRE(out.ok());
    const float* y = (*out)[0].data<float>();
    CHECK(y[0] == 1.f);
    CHECK(y[1] == -2.f);
    CHECK(y[2] == 65504.f);
    CHECK(y[3] == std::ldexp(1.f, -14));
    CHECK(y[4] == std::ldexp(1.f, -24));
    CHECK(y[5] == std::ldexp(3.f, -24));
    CHECK(std::isinf(y[6]));
    CHECK((y[7] == 0.f && std::signbit(y[7])));
    auto nan = RunKernel({"Cast", {Bits(DT_HALF, {0x7e00})}, CastAttrs(DT_HALF, DT_DOUBLE)});
    REQUIRE(nan.ok());
    CHECK(std::isnan((*nan)[0].data<double>()[0]));
  }
  SECTION("float to float16 rounds to nearest even, overflows to infinity") {
    Tensor f = Tensor::FromVector<float>(
        {0.1f, 65504.f, 65519.f, 65520.f, std::ldexp(1.f, -25), std::ldexp(1.5f, -25),
         1.f + std::ldexp(1.f, -11), 1.f + std::ldexp(3.f, -11), -0.f},
        {9});
    auto out = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, DT_HALF)});
    REQUIRE(out.ok());
    const uint16_t* h = (*out)[0].data<uint16_t>();
    CHECK(h[0] == 0x2e66);  // 0.0999755859375
    CHECK(h[1] == 0x7bff);
    CHECK(h[2] == 0x7bff);  // below the halfway point to 65536
    CHECK(h[3] == 0x7c00);  // the tie rounds to even: infinity
    CHECK(h[4] == 0x0000);  // half the smallest subnormal ties to zero
    CHECK(h[5] == 0x0001);
    CHECK(h[6] == 0x3c00);  // 1 + 2^-11 is a tie: to even (1.0)
    CHECK(h[7] == 0x3c02);  // 1 + 3 * 2^-11 ties up to even
    CHECK(h[8] == 0x8000);
  }
  SECTION("round trips on random values stay within half an ulp") {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-1000.f, 1000.f);
    std::vector<float> values(512);
    for (float& v : values) v = dist(rng);
    Tensor f = Tensor::FromVector<float>(values, {512});
    for (DataType narrow : {DT_HALF, DT_BFLOAT16}) {
      auto down = RunKernel({"Cast", {f}, CastAttrs(DT_FLOAT, narrow)});
      REQUIRE(down.ok());
      auto up = RunKernel({"Cast", {(*down)[0]}, CastAttrs(narrow, DT_DOUBLE)});
      REQUIRE(up.ok());
      // 11 significant bits for float16, 8 for bfloat16: half an ulp relative.
      const double tolerance = narrow == DT_HALF ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
      for (int i = 0; i < 512; ++i) {
        const double want = values[i];
        const double got = (*up)[0].data<double>()[i];
        CHECK(std::abs(got - want) <= tolerance * std::abs(want) * 1.0001);
      }
    }
  }
  SECTION("bfloat16 keeps float's exponent") {
    auto out = RunKernel({"Cast", {Bits(DT_BFLOAT16, {0x3f80, 0xc2f7, 0x7f80})},
                          CastAttrs(DT_BFLOAT16, DT_FLOAT)});
    REQUIRE(out.ok());
    CHECK((*out)[0].data<float>()[0] == 1.f);
    CHECK((*out)[0].data<float>()[1] == -123.5f);
    CHECK(std::isinf((*out)[0].data<float>()[2]));
  }
}

}  // namespace
}  // namespace weir
