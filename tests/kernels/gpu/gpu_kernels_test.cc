// gpu_kernels_test.cc - Conformance of the kernels/gpu launchers against float64 references.
//
// Every test case first checks for a GPU and, without one, warns "SKIPPED: no GPU" and
// returns, so this binary passes on the development machines, which have none. With a GPU:
// seeded random inputs, float32 results within 1e-5 relative of the reference for elementwise
// ops and 1e-4 for reductions (plus a tiny absolute floor for results near zero); broadcasting
// with rank-0 and size-1 dimensions, empty tensors, interleaved reduction axes, sizes past the
// launchers' grid limits, and the error paths (bad shapes, out-of-range gather indices).
// GEMM is in gpu_gemm_test.cc.
#include <catch2/catch.hpp>

#ifdef WEIR_HAVE_CUDA

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/reduction.h"
#include "kernels/gpu/softmax.h"
#include "tests/kernels/gpu/gpu_test_util.h"

namespace weir {
namespace gpu {
namespace {

using testing::CheckClose;
using testing::CheckEqual;
using testing::DeviceBuffer;
using testing::Dims;
using testing::NumElements;
using testing::RandomVector;
using testing::ToGpuDims;

constexpr double kElementwiseRtol = 1e-5;
constexpr double kElementwiseAtol = 1e-6;
constexpr double kReductionRtol = 1e-4;
constexpr double kReductionAtol = 1e-5;

// ---------------------------------------------------------------------------------------------
// Elementwise

struct UnaryCase {
  UnaryOp op;
  double lo, hi;  // input range where the op is defined and well conditioned
  std::function<double(double)> reference;
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double Sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

std::vector<UnaryCase> FloatUnaryCases() {
  return {
      {UnaryOp::kNeg, -10, 10, [](double x) { return -x; }},
      {UnaryOp::kAbs, -10, 10, [](double x) { return std::fabs(x); }},
      {UnaryOp::kExp, -20, 20, [](double x) { return std::exp(x); }},
      {UnaryOp::kLog, 1e-3, 1e3, [](double x) { return std::log(x); }},
      {UnaryOp::kLog1p, -0.9, 10, [](double x) { return std::log1p(x); }},
      {UnaryOp::kSqrt, 0, 1e3, [](double x) { return std::sqrt(x); }},
      {UnaryOp::kRsqrt, 1e-3, 1e3, [](double x) { return 1.0 / std::sqrt(x); }},
      {UnaryOp::kSquare, -100, 100, [](double x) { return x * x; }},
      {UnaryOp::kTanh, -5, 5, [](double x) { return std::tanh(x); }},
      {UnaryOp::kSigmoid, -20, 20, Sigmoid},
      {UnaryOp::kRelu, -10, 10, [](double x) { return x > 0 ? x : 0.0; }},
      {UnaryOp::kRelu6, -10, 10, [](double x) { return std::min(std::max(x, 0.0), 6.0); }},
      {UnaryOp::kElu, -10, 10, [](double x) { return x < 0 ? std::expm1(x) : x; }},
      {UnaryOp::kSoftplus, -30, 30, [](double x) { return std::log1p(std::exp(x)); }},
      {UnaryOp::kSign, -10, 10, Sign},
      {UnaryOp::kFloor, -100, 100, [](double x) { return std::floor(x); }},
      {UnaryOp::kCeil, -100, 100, [](double x) { return std::ceil(x); }},
      {UnaryOp::kRound, -100, 100, [](double x) { return std::nearbyint(x); }},
      {UnaryOp::kErf, -4, 4, [](double x) { return std::erf(x); }},
      {UnaryOp::kReciprocal, 0.01, 100, [](double x) { return 1.0 / x; }},
  };
}

TEST_CASE("gpu unary float ops match the float64 reference") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  // An odd size exercises the vector body and the scalar tail; offset 1 breaks the 16-byte
  // alignment and takes the scalar kernel for everything.
  const int64_t n = 100003;
  uint32_t seed = 1;
  for (const UnaryCase& c : FloatUnaryCases()) {
    for (int offset : {0, 1}) {
      std::vector<float> x = RandomVector<float>(n + offset, c.lo, c.hi, seed++);
      if (c.op == UnaryOp::kRound || c.op == UnaryOp::kFloor || c.op == UnaryOp::kCeil) {
        // Exact halves: Round must go to the even neighbour.
        const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 0.0f, -0.0f};
        for (size_t i = 0; i < sizeof(halves) / sizeof(halves[0]); ++i) x[offset + i] = halves[i];
      }
      DeviceBuffer<float> in(x);
      DeviceBuffer<float> out(n + offset);
      WEIR_REQUIRE_OK(LaunchUnary<float>(c.op, in.get() + offset, out.get() + offset, n, nullptr));
      std::vector<float> got = out.ToHost();
      std::vector<float> got_n(got.begin() + offset, got.end());
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) want[i] = c.reference(x[offset + i]);
      CheckClose(got_n, want, kElementwiseRtol, kElementwiseAtol,
                 std::string(UnaryOpName(c.op)) + " offset " + std::to_string(offset));
    }
  }
}

TEST_CASE("gpu unary ops run in place and on integers") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::vector<float> x = RandomVector<float>(1027, -5, 5, 7);
  DeviceBuffer<float> buf(x);
  WEIR_REQUIRE_OK(LaunchUnary<float>(UnaryOp::kTanh, buf.get(), buf.get(), 1027, nullptr));
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = std::tanh(x[i]);
  CheckClose(buf.ToHost(), want, kElementwiseRtol, kElementwiseAtol, "in-place Tanh");

  std::vector<int32_t> xi = RandomVector<int32_t>(1001, -20, 20, 8);
  DeviceBuffer<int32_t> in(xi), out(xi.size());
  struct IntCase {
    UnaryOp op;
    std::function<int32_t(int32_t)> reference;
  };
  const IntCase cases[] = {
      {UnaryOp::kNeg, [](int32_t v) { return -v; }},
      {UnaryOp::kAbs, [](int32_t v) { return v < 0 ? -v : v; }},
      {UnaryOp::kSquare, [](int32_t v) { return v * v; }},
      {UnaryOp::kSign, [](int32_t v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }},
      {UnaryOp::kRelu6, [](int32_t v) { return std::min(std::max(v, 0), 6); }},
      {UnaryOp::kRound, [](int32_t v) { return v; }},
  };
  for (const IntCase& c : cases) {
    WEIR_REQUIRE_OK(LaunchUnary<int32_t>(c.op, in.get(), out.get(), xi.size(), nullptr));
    std::vector<int32_t> want_i(xi.size());
    for (size_t i = 0; i < xi.size(); ++i) want_i[i] = c.reference(xi[i]);
    CheckEqual(out.ToHost(), want_i, std::string("int32 ") + UnaryOpName(c.op));
  }
  const GpuStatus bad = LaunchUnary<int32_t>(UnaryOp::kExp, in.get(), out.get(), 4, nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message() == "unary op Exp is not defined for integer types");
  // Nothing to do for an empty tensor (null pointers are fine).
  WEIR_REQUIRE_OK(LaunchUnary<float>(UnaryOp::kExp, nullptr, nullptr, 0, nullptr));
}

// The reference broadcast: maps an output index to an operand index by NumPy's rules.
int64_t BroadcastIndex(int64_t out_index, const Dims& out_dims, const Dims& operand) {
  const Dims coords = testing::Unravel(out_index, out_dims);
  const size_t lead = out_dims.size() - operand.size();
  int64_t index = 0;
  for (size_t d = 0; d < operand.size(); ++d) {
    index = index * operand[d] + (operand[d] == 1 ? 0 : coords[lead + d]);
  }
  return index;
}

Dims ReferenceBroadcastShape(const Dims& a, const Dims& b) {
  Dims out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t ai = i + a.size() >= out.size() ? a[i + a.size() - out.size()] : 1;
    const int64_t bi = i + b.size() >= out.size() ? b[i + b.size() - out.size()] : 1;
    out[i] = ai == 1 ? bi : ai;
  }
  return out;
}

struct BinaryCase {
  BinaryOp op;
  double lhs_lo, lhs_hi, rhs_lo, rhs_hi;
  std::function<double(float, float)> reference;
};

std::vector<BinaryCase> FloatBinaryCases() {
  return {
      {BinaryOp::kAdd, -10, 10, -10, 10, [](float x, float y) { return double(x) + y; }},
      {BinaryOp::kSub, -10, 10, -10, 10, [](float x, float y) { return double(x) - y; }},
      {BinaryOp::kMul, -10, 10, -10, 10, [](float x, float y) { return double(x) * y; }},
      {BinaryOp::kDiv, -10, 10, 0.5, 10, [](float x, float y) { return double(x) / y; }},
      {BinaryOp::kMaximum, -10, 10, -10, 10,
       [](float x, float y) { return std::max<double>(x, y); }},
      {BinaryOp::kMinimum, -10, 10, -10, 10,
       [](float x, float y) { return std::min<double>(x, y); }},
      {BinaryOp::kPow, 0.1, 10, -3, 3, [](float x, float y) { return std::pow(double(x), y); }},
      {BinaryOp::kSquaredDifference, -10, 10, -10, 10,
       [](float x, float y) { return (double(x) - y) * (double(x) - y); }},
      // FloorDiv is floor of the float quotient (TensorFlow computes x / y in T first).
      {BinaryOp::kFloorDiv, -100, 100, -9, -0.5,
       [](float x, float y) { return std::floor(static_cast<double>(x / y)); }},
      {BinaryOp::kFloorMod, -100, 100, 0.5, 9,
       [](float x, float y) {
         double r = std::fmod(double(x), double(y));
         if (r != 0 && ((r < 0) != (y < 0))) r += y;
         return r;
       }},
  };
}

// Shape pairs: same shape, rank-0 and size-1 operands on either side, general broadcasts up to
// rank 8, and empty outputs.
std::vector<std::pair<Dims, Dims>> BroadcastShapePairs() {
  return {
      {{1000}, {1000}},
      {{}, {37}},
      {{37, 5}, {}},
      {{}, {}},
      {{1}, {1, 1, 9}},
      {{4, 1, 3}, {5, 1}},
      {{2, 3, 4, 5}, {3, 1, 5}},
      {{64, 1, 1, 128}, {128}},
      {{33, 1}, {1, 65}},
      {{2, 1, 2, 1, 2, 1, 2, 3}, {1, 2, 1, 2, 1, 2, 1, 3}},
      {{0, 3}, {1, 3}},
      {{5, 0}, {}},
  };
}

TEST_CASE("gpu binary float ops broadcast like NumPy") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  uint32_t seed = 100;
  for (const BinaryCase& c : FloatBinaryCases()) {
    for (const auto& [lhs_dims, rhs_dims] : BroadcastShapePairs()) {
      const Dims out_dims = ReferenceBroadcastShape(lhs_dims, rhs_dims);
      const int64_t n = NumElements(out_dims);
      std::vector<float> lhs = RandomVector<float>(NumElements(lhs_dims), c.lhs_lo, c.lhs_hi, seed++);
      std::vector<float> rhs = RandomVector<float>(NumElements(rhs_dims), c.rhs_lo, c.rhs_hi, seed++);
      DeviceBuffer<float> dl(lhs), dr(rhs), dout(n);
      WEIR_REQUIRE_OK(LaunchBinary<float>(c.op, dl.get(), ToGpuDims(lhs_dims), dr.get(),
                                          ToGpuDims(rhs_dims), dout.get(), nullptr));
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) {
        want[i] = c.reference(lhs[BroadcastIndex(i, out_dims, lhs_dims)],
                              rhs[BroadcastIndex(i, out_dims, rhs_dims)]);
      }
      CheckClose(dout.ToHost(), want, kElementwiseRtol, kElementwiseAtol,
                 std::string(BinaryOpName(c.op)) + " " + testing::DimsString(lhs_dims) + " vs " +
                     testing::DimsString(rhs_dims));
    }
  }
}

TEST_CASE("gpu binary integer ops follow TensorFlow's floor semantics") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const Dims lhs_dims = {7, 1, 9}, rhs_dims = {5, 1};
  const Dims out_dims = ReferenceBroadcastShape(lhs_dims, rhs_dims);
  const int64_t n = NumElements(out_dims);
  std::vector<int64_t> lhs = RandomVector<int64_t>(NumElements(lhs_dims), -50, 50, 9);
  std::vector<int64_t> rhs = RandomVector<int64_t>(NumElements(rhs_dims), -7, 7, 10);
  for (auto& v : rhs) {
    if (v == 0) v = 3;
  }
  auto floor_div = [](int64_t x, int64_t y) {
    return static_cast<int64_t>(std::floor(static_cast<double>(x) / static_cast<double>(y)));
  };
  struct IntCase {
    BinaryOp op;
    std::function<int64_t(int64_t, int64_t)> reference;
  };
  const IntCase cases[] = {
      {BinaryOp::kAdd, [](int64_t x, int64_t y) { return x + y; }},
      {BinaryOp::kMul, [](int64_t x, int64_t y) { return x * y; }},
      {BinaryOp::kDiv, [](int64_t x, int64_t y) { return x / y; }},
      {BinaryOp::kFloorDiv, floor_div},
      {BinaryOp::kFloorMod, [&](int64_t x, int64_t y) { return x - floor_div(x, y) * y; }},
      {BinaryOp::kMaximum, [](int64_t x, int64_t y) { return std::max(x, y); }},
      {BinaryOp::kSquaredDifference, [](int64_t x, int64_t y) { return (x - y) * (x - y); }},
  };
  DeviceBuffer<int64_t> dl(lhs), dr(rhs), dout(n);
  for (const IntCase& c : cases) {
    WEIR_REQUIRE_OK(LaunchBinary<int64_t>(c.op, dl.get(), ToGpuDims(lhs_dims), dr.get(),
                                          ToGpuDims(rhs_dims), dout.get(), nullptr));
    std::vector<int64_t> want(n);
    for (int64_t i = 0; i < n; ++i) {
      want[i] = c.reference(lhs[BroadcastIndex(i, out_dims, lhs_dims)],
                            rhs[BroadcastIndex(i, out_dims, rhs_dims)]);
    }
    CheckEqual(dout.ToHost(), want, std::string("int64 ") + BinaryOpName(c.op));
  }
  // Pow on int32 with small exponents, including negative ones (truncated to 0 unless |x|==1).
  std::vector<int32_t> base = {2, -3, 1, -1, 5, 0, 7, -2};
  std::vector<int32_t> exponent = {10, 3, -4, -3, 0, 2, -1, 5};
  std::vector<int32_t> want = {1024, -27, 1, -1, 1, 0, 0, -32};
  DeviceBuffer<int32_t> db(base), de(exponent), dp(base.size());
  WEIR_REQUIRE_OK(LaunchBinary<int32_t>(BinaryOp::kPow, db.get(), GpuDims{8}, de.get(),
                                        GpuDims{8}, dp.get(), nullptr));
  CheckEqual(dp.ToHost(), want, "int32 Pow");
}

TEST_CASE("gpu binary ops reject incompatible shapes") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  DeviceBuffer<float> a(12), b(12), out(12);
  const GpuStatus st = LaunchBinary<float>(BinaryOp::kAdd, a.get(), GpuDims{3, 4}, b.get(),
                                           GpuDims{2, 4}, out.get(), nullptr);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "incompatible shapes for broadcasting: [3,4] vs [2,4] (dimension 0: 3 vs 2)");
}

TEST_CASE("gpu elementwise kernels cover sizes past the grid limit") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  // The launchers cap a grid at 65536 blocks of 256 threads (16.7M threads); these sizes need
  // the grid-stride loops. The +1 offset forces the scalar (non-vector) same-shape kernel.
  const int64_t n = (int64_t{1} << 25) + 7;
  std::vector<float> x = RandomVector<float>(n + 1, -1, 1, 11);
  std::vector<float> y = RandomVector<float>(n + 1, -1, 1, 12);
  DeviceBuffer<float> dx(x), dy(y), dout(n + 1);
  WEIR_REQUIRE_OK(LaunchBinary<float>(BinaryOp::kAdd, dx.get() + 1, GpuDims{n}, dy.get() + 1,
                                      GpuDims{n}, dout.get() + 1, nullptr));
  std::vector<float> got = dout.ToHost();
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += got[i + 1] != x[i + 1] + y[i + 1];
  CHECK(bad == 0);

  // The strided kernel: [8193, 4097] + [4097].
  const Dims big = {8193, 4097};
  WEIR_REQUIRE_OK(LaunchBinary<float>(BinaryOp::kMul, dx.get(), ToGpuDims(big), dy.get(),
                                      GpuDims{4097}, dout.get(), nullptr));
  got = dout.ToHost();
  bad = 0;
  for (int64_t i = 0; i < NumElements(big); ++i) bad += got[i] != x[i] * y[i % 4097];
  CHECK(bad == 0);
}

// ---------------------------------------------------------------------------------------------
// Reductions

std::vector<double> ReferenceReduce(ReduceOp op, const std::vector<float>& x, const Dims& dims,
                                    const std::vector<int64_t>& axes) {
  std::vector<bool> reduced(dims.size(), false);
  for (int64_t a : axes) reduced[a < 0 ? a + dims.size() : a] = true;
  Dims out_dims;
  int64_t count = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (reduced[d]) {
      count *= dims[d];
    } else {
      out_dims.push_back(dims[d]);
    }
  }
  double init = 0;
  if (op == ReduceOp::kProd) init = 1;
  if (op == ReduceOp::kMax) init = -std::numeric_limits<double>::infinity();
  if (op == ReduceOp::kMin) init = std::numeric_limits<double>::infinity();
  std::vector<double> acc(NumElements(out_dims), init);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    const Dims coords = testing::Unravel(i, dims);
    Dims out_coords;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (!reduced[d]) out_coords.push_back(coords[d]);
    }
    double& a = acc[testing::Ravel(out_coords, out_dims)];
    const double v = x[i];
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kMean: a += v; break;
      case ReduceOp::kProd: a *= v; break;
      case ReduceOp::kMax: a = std::max(a, v); break;
      case ReduceOp::kMin: a = std::min(a, v); break;
    }
  }
  if (op == ReduceOp::kMean) {
    for (double& a : acc) a = count == 0 ? std::nan("") : a / count;
  }
  return acc;
}

struct ReduceCase {
  Dims dims;
  std::vector<int64_t> axes;
};

TEST_CASE("gpu reductions match the float64 reference over any axes") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const ReduceCase cases[] = {
      {{1000}, {0}},                // one row
      {{37, 513}, {1}},             // a warp per row
      {{7, 5000}, {-1}},            // a block per row
      {{3, 300000}, {1}},           // few long rows: split through the workspace
      {{1 << 22}, {0}},             // one very long row
      {{600000, 3}, {1}},           // many short rows, past the grid limit
      {{513, 37}, {0}},             // columns
      {{4, 100, 33}, {1}},          // [outer, reduced, inner]
      {{2, 40000, 3}, {1}},         // long columns: split through the workspace
      {{1 << 20, 4}, {0}},          // very long narrow columns: split
      {{4096, 300}, {0}},           // columns with taller blocks
      {{3, 4, 5, 6}, {0, 2}},       // interleaved axes: strided kernel
      {{3, 4, 5, 6}, {1, 3}},
      {{3, 4, 5, 6}, {-1, 0}},
      {{2, 3, 4, 5, 6}, {0, 2, 4}},
      {{4, 5, 6}, {0, 1, 2}},       // everything
      {{6, 1, 8}, {1}},             // only a size-1 axis: a copy
      {{2, 3, 4}, {}},              // no axes: a copy
      {{}, {}},                     // rank 0
      {{0, 5}, {1}},                // empty output
      {{5, 0}, {1}},                // empty reduced extent: the identity
      {{2, 3, 4}, {1, 1}},          // a repeated axis
  };
  const ReduceOp ops[] = {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin,
                          ReduceOp::kProd};
  uint32_t seed = 200;
  for (const ReduceCase& c : cases) {
    for (ReduceOp op : ops) {
      // Positive inputs keep sums free of cancellation; Prod gets values near 1 so long
      // products neither overflow nor vanish.
      const bool prod = op == ReduceOp::kProd;
      std::vector<float> x = RandomVector<float>(NumElements(c.dims), prod ? 0.98 : 0.5,
                                                 prod ? 1.02 : 1.5, seed++);
      if (op == ReduceOp::kMax || op == ReduceOp::kMin) {
        x = RandomVector<float>(NumElements(c.dims), -100, 100, seed++);
      }
      const std::vector<double> want = ReferenceReduce(op, x, c.dims, c.axes);
      const GpuDims shape = ToGpuDims(c.dims);
      const size_t ws_bytes = ReduceWorkspaceBytes(shape, c.axes.data(),
                                                   static_cast<int>(c.axes.size()), sizeof(float));
      DeviceBuffer<float> in(x), out(want.size());
      DeviceBuffer<char> workspace(ws_bytes);
      // With the workspace, and without it (every reduction must work without one).
      for (bool use_ws : {true, false}) {
        WEIR_REQUIRE_OK(LaunchReduce<float>(op, in.get(), shape, c.axes.data(),
                                            static_cast<int>(c.axes.size()), out.get(),
                                            use_ws ? workspace.get() : nullptr,
                                            use_ws ? ws_bytes : 0, nullptr));
        CheckClose(out.ToHost(), want, kReductionRtol, kReductionAtol,
                   std::string(ReduceOpName(op)) + " of " + testing::DimsString(c.dims) +
                       (use_ws ? " with workspace" : " without workspace"));
      }
    }
  }
  // The split is planned only where one pass would leave the GPU mostly idle.
  const int64_t axis1[] = {1};
  CHECK(ReduceWorkspaceBytes(GpuDims{3, 300000}, axis1, 1, sizeof(float)) > 0);
  CHECK(ReduceWorkspaceBytes(GpuDims{37, 513}, axis1, 1, sizeof(float)) == 0);
  const int64_t axis0[] = {0};
  CHECK(ReduceWorkspaceBytes(GpuDims{1 << 20, 4}, axis0, 1, sizeof(float)) > 0);
  CHECK(ReduceWorkspaceBytes(GpuDims{64, 100000}, axis0, 1, sizeof(float)) == 0);
}

TEST_CASE("gpu integer reductions are exact") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const Dims dims = {6, 1000, 5};
  const int64_t axes[] = {0, 2};
  std::vector<int32_t> x = RandomVector<int32_t>(NumElements(dims), -1000, 1000, 13);
  DeviceBuffer<int32_t> in(x), out(1000);
  WEIR_REQUIRE_OK(LaunchReduce<int32_t>(ReduceOp::kSum, in.get(), ToGpuDims(dims), axes, 2,
                                        out.get(), nullptr, 0, nullptr));
  std::vector<int32_t> sums(1000, 0);
  for (int64_t i = 0; i < NumElements(dims); ++i) sums[(i / 5) % 1000] += x[i];
  CheckEqual(out.ToHost(), sums, "int32 Sum over {0, 2}");
  WEIR_REQUIRE_OK(LaunchReduce<int32_t>(ReduceOp::kMean, in.get(), ToGpuDims(dims), axes, 2,
                                        out.get(), nullptr, 0, nullptr));
  std::vector<int32_t> means(1000);
  for (int i = 0; i < 1000; ++i) means[i] = sums[i] / 30;  // truncating, as TensorFlow
  CheckEqual(out.ToHost(), means, "int32 Mean over {0, 2}");
}

TEST_CASE("gpu reductions reject an axis out of range") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  DeviceBuffer<float> in(6), out(6);
  const int64_t axes[] = {2};
  const GpuStatus st = LaunchReduce<float>(ReduceOp::kSum, in.get(), GpuDims{2, 3}, axes, 1,
                                           out.get(), nullptr, 0, nullptr);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "reduction axis 2 is out of range for an input of rank 2, expected in [-2, 2)");
}

TEST_CASE("gpu ArgMax and ArgMin return the first index on ties") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  struct ArgCase {
    Dims dims;
    int axis;
  };
  const ArgCase cases[] = {{{37, 1000}, 1}, {{50, 33, 7}, 1}, {{50, 33, 7}, 0},
                           {{1, 70000}, -1}, {{100}, 0}, {{600000, 2}, 1}};
  uint32_t seed = 300;
  for (const ArgCase& c : cases) {
    // Few distinct values, so ties are everywhere.
    std::vector<int32_t> x = RandomVector<int32_t>(NumElements(c.dims), 0, 5, seed++);
    const int axis = c.axis < 0 ? c.axis + static_cast<int>(c.dims.size()) : c.axis;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= c.dims[d];
    for (size_t d = axis + 1; d < c.dims.size(); ++d) inner *= c.dims[d];
    const int64_t n = c.dims[axis];
    DeviceBuffer<int32_t> in(x);
    DeviceBuffer<int64_t> out(outer * inner);
    for (ArgReduceOp op : {ArgReduceOp::kArgMax, ArgReduceOp::kArgMin}) {
      WEIR_REQUIRE_OK(LaunchArgReduce<int32_t>(op, in.get(), ToGpuDims(c.dims), c.axis,
                                               out.get(), nullptr));
      std::vector<int64_t> want(outer * inner);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k = 0; k < inner; ++k) {
          int64_t best = 0;
          for (int64_t i = 1; i < n; ++i) {
            const int32_t v = x[(o * n + i) * inner + k], b = x[(o * n + best) * inner + k];
            if (op == ArgReduceOp::kArgMax ? v > b : v < b) best = i;
          }
          want[o * inner + k] = best;
        }
      }
      CheckEqual(out.ToHost(), want,
                 std::string(op == ArgReduceOp::kArgMax ? "ArgMax" : "ArgMin") + " of " +
                     testing::DimsString(c.dims) + " axis " + std::to_string(c.axis));
    }
  }
  // Floats too.
  std::vector<float> xf = {1.5f, -2.0f, 7.25f, 7.25f, 0.0f, -9.0f};
  DeviceBuffer<float> inf(xf);
  DeviceBuffer<int64_t> outf(2);
  WEIR_REQUIRE_OK(LaunchArgReduce<float>(ArgReduceOp::kArgMax, inf.get(), GpuDims{2, 3}, 1,
                                         outf.get(), nullptr));
  CheckEqual(outf.ToHost(), std::vector<int64_t>{2, 0}, "float ArgMax");
  const GpuStatus st = LaunchArgReduce<float>(ArgReduceOp::kArgMax, inf.get(), GpuDims{3, 0}, 1,
                                              outf.get(), nullptr);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "arg reduction axis 1 is empty in shape [3,0]");
}

// ---------------------------------------------------------------------------------------------
// Softmax

TEST_CASE("gpu Softmax and LogSoftmax are stable and match the reference") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  const std::pair<int64_t, int64_t> shapes[] = {{1000, 10}, {33, 1000}, {7, 5000}, {4, 1},
                                                {3, 1025}, {0, 10}, {200000, 3}};
  uint32_t seed = 400;
  for (const auto& [rows, cols] : shapes) {
    // Logits up to +-50: exp overflows float without the max subtraction.
    std::vector<float> x = RandomVector<float>(rows * cols, -50, 50, seed++);
    DeviceBuffer<float> in(x), out(rows * cols);
    for (bool log : {false, true}) {
      WEIR_REQUIRE_OK(LaunchSoftmax(in.get(), out.get(), rows, cols, log, nullptr));
      std::vector<double> want(rows * cols);
      for (int64_t r = 0; r < rows; ++r) {
        double max = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) max = std::max<double>(max, x[r * cols + c]);
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(x[r * cols + c] - max);
        for (int64_t c = 0; c < cols; ++c) {
          const double shifted = x[r * cols + c] - max;
          want[r * cols + c] = log ? shifted - std::log(sum) : std::exp(shifted) / sum;
        }
      }
      // Softmax values below ~1e-30 are subnormal-ish in float: the absolute floor covers them.
      CheckClose(out.ToHost(), want, kElementwiseRtol, log ? 1e-5 : 1e-7,
                 std::string(log ? "LogSoftmax " : "Softmax ") + std::to_string(rows) + "x" +
                     std::to_string(cols));
    }
  }
}

}  // namespace
}  // namespace gpu
}  // namespace weir

#else  // !WEIR_HAVE_CUDA

TEST_CASE("gpu kernels") { WARN("SKIPPED: no GPU (this build has no CUDA toolkit)"); }

#endif  // WEIR_HAVE_CUDA
