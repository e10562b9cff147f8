// reduction_test.cc - Tests for kernels/cpu/reduction.cc: Sum, Mean, Max and ArgMax against a
// float64 reference over many axis sets (negative, duplicate, scalar, empty), keep_dims,
// integer inputs, int64 axes, empty dims and bad axes.
#include <cmath>
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

constexpr double kReductionTolerance = 1e-5;

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> out(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    switch (t.dtype()) {
      case DT_FLOAT: out[i] = t.data<float>()[i]; break;
      case DT_DOUBLE: out[i] = t.data<double>()[i]; break;
      case DT_INT32: out[i] = t.data<int32_t>()[i]; break;
      case DT_INT64: out[i] = static_cast<double>(t.data<int64_t>()[i]); break;
      default: FAIL("unexpected dtype " << DataTypeString(t.dtype()));
    }
  }
  return out;
}

enum class Kind { kSum, kMean, kMax };

const char* OpName(Kind kind) {
  return kind == Kind::kSum ? "Sum" : kind == Kind::kMean ? "Mean" : "Max";
}

// Reduces by visiting every input element and computing its output position from its
// coordinates (independent of the kernel's collapsed-dims walk). Returns the keep_dims shape.
std::vector<double> ReferenceReduce(const Tensor& input, const std::vector<int64_t>& axes,
                                    Kind kind, TensorShape* kept_shape) {
  const TensorShape& shape = input.shape();
  std::set<int> reduced;
  for (int64_t a : axes) reduced.insert(static_cast<int>(a < 0 ? a + shape.rank() : a));
  *kept_shape = TensorShape();
  int64_t count = 1;
  for (int i = 0; i < shape.rank(); ++i) {
    kept_shape->AddDim(reduced.count(i) ? 1 : shape.dim(i));
    if (reduced.count(i)) count *= shape.dim(i);
  }
  const double init = kind == Kind::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> acc(kept_shape->num_elements(), init);
  const std::vector<double> values = ToDoubles(input);
  std::vector<int64_t> coord(shape.rank());
  for (int64_t n = 0; n < shape.num_elements(); ++n) {
    int64_t rest = n;
    for (int i = shape.rank() - 1; i >= 0; --i) {
      coord[i] = rest % shape.dim(i);
      rest /= shape.dim(i);
    }
    int64_t out = 0;
    for (int i = 0; i < shape.rank(); ++i) {
      out = out * kept_shape->dim(i) + (reduced.count(i) ? 0 : coord[i]);
    }
    acc[out] = kind == Kind::kMax ? std::max(acc[out], values[n]) : acc[out] + values[n];
  }
  if (kind == Kind::kMean) {
    for (double& v : acc) v /= static_cast<double>(count);
  }
  return acc;
}

TensorShape DropKeptOnes(const TensorShape& kept, const std::vector<int64_t>& axes) {
  std::set<int> reduced;
  for (int64_t a : axes) reduced.insert(static_cast<int>(a < 0 ? a + kept.rank() : a));
  TensorShape out;
  for (int i = 0; i < kept.rank(); ++i) {
    if (!reduced.count(i)) out.AddDim(kept.dim(i));
  }
  return out;
}

Tensor AxesTensor(const std::vector<int64_t>& axes, DataType dtype, bool scalar = false) {
  TensorShape shape = scalar ? TensorShape{} : TensorShape{static_cast<int64_t>(axes.size())};
  if (dtype == DT_INT64) return Tensor::FromVector<int64_t>(axes, shape);
  return Tensor::FromVector<int32_t>(std::vector<int32_t>(axes.begin(), axes.end()), shape);
}

std::vector<std::pair<std::string, AttrValue>> ReduceAttrs(DataType t, bool keep_dims,
                                                           DataType tidx = DT_INT32) {
  return {{"T", MakeAttr(t)}, {"Tidx", MakeAttr(tidx)}, {"keep_dims", MakeAttr(keep_dims)}};
}

TEST_CASE("float reductions match the float64 reference over many axis sets") {
  struct Case {
    TensorShape shape;
    std::vector<int64_t> axes;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {0}},        {{2, 3, 4}, {1}},          {{2, 3, 4}, {2}},
      {{2, 3, 4}, {-1}},       {{2, 3, 4}, {-3}},         {{2, 3, 4}, {0, 2}},
      {{2, 3, 4}, {2, 0}},     {{2, 3, 4}, {0, 1, 2}},    {{2, 3, 4}, {1, -2}},  // duplicate
      {{2, 3, 4, 5}, {1, 3}},  {{2, 3, 4, 5}, {0, 2}},    {{2, 3, 4, 5}, {1, 2}},
      {{3, 1, 4}, {1}},        {{3, 1, 4}, {0, 1}},       {{7}, {0}},
      {{6, 300}, {1}},         {{300, 6}, {0}},           {{5, 1, 1, 7}, {-1, 0}},
      // Rows summed in 8 partial sums (SumRow), with and without a tail; the LayerNorm layout.
      {{4, 16, 64}, {-1}},     {{3, 1003}, {1}},          {{4, 37, 19}, {1}},
  };
  std::mt19937 rng(30);
  for (const Case& c : cases) {
    for (Kind kind : {Kind::kSum, Kind::kMean, Kind::kMax}) {
      for (bool keep_dims : {false, true}) {
        INFO(OpName(kind) << " over " << c.shape.ToString() << " keep_dims=" << keep_dims
                          << " axes[0]=" << c.axes[0] << " n_axes=" << c.axes.size());
        Tensor x = RandomFloat(c.shape, rng, -1.f, 1.f);
        auto out = RunKernel({OpName(kind), {x, AxesTensor(c.axes, DT_INT32)},
                              ReduceAttrs(DT_FLOAT, keep_dims)});
        REQUIRE(out.ok());
        TensorShape kept;
        std::vector<double> expected = ReferenceReduce(x, c.axes, kind, &kept);
        REQUIRE((*out)[0].shape() == (keep_dims ? kept : DropKeptOnes(kept, c.axes)));
        CHECK(MaxRelativeError((*out)[0], expected) < kReductionTolerance);
      }
    }
  }
}

TEST_CASE("reduction axes may be a scalar, int64, or empty") {
  std::mt19937 rng(31);
  Tensor x = RandomFloat({4, 5}, rng);
  TensorShape kept;
  const std::vector<double> expected = ReferenceReduce(x, {-1}, Kind::kSum, &kept);

  auto scalar = RunKernel({"Sum", {x, AxesTensor({-1}, DT_INT32, /*scalar=*/true)},
                           ReduceAttrs(DT_FLOAT, false)});
  REQUIRE(scalar.ok());
  CHECK((*scalar)[0].shape() == TensorShape({4}));
  CHECK(MaxRelativeError((*scalar)[0], expected) < kReductionTolerance);

  auto wide = RunKernel({"Sum", {x, AxesTensor({1}, DT_INT64)},
                         ReduceAttrs(DT_FLOAT, false, DT_INT64)});
  REQUIRE(wide.ok());
  CHECK(MaxRelativeError((*wide)[0], expected) < kReductionTolerance);

  for (bool keep_dims : {false, true}) {
    auto none = RunKernel({"Max", {x, AxesTensor({}, DT_INT32)}, ReduceAttrs(DT_FLOAT, keep_dims)});
    REQUIRE(none.ok());
    CHECK((*none)[0].shape() == x.shape());
    CHECK(ToDoubles((*none)[0]) == ToDoubles(x));
  }
}

TEST_CASE("integer Sum and Max are exact") {
  std::mt19937 rng(32);
  Tensor x = RandomInt32({3, 4, 5}, rng, -100000, 100000);
  for (Kind kind : {Kind::kSum, Kind::kMax}) {
    for (const std::vector<int64_t>& axes :
         std::vector<std::vector<int64_t>>{{1}, {0, 2}, {-1}, {0, 1, 2}}) {
      INFO(OpName(kind) << " axes[0]=" << axes[0] << " n_axes=" << axes.size());
      auto out = RunKernel({OpName(kind), {x, AxesTensor(axes, DT_INT32)},
                            ReduceAttrs(DT_INT32, true)});
      REQUIRE(out.ok());
      REQUIRE((*out)[0].dtype() == DT_INT32);
      TensorShape kept;
      std::vector<double> expected = ReferenceReduce(x, axes, kind, &kept);
      REQUIRE((*out)[0].shape() == kept);
      CHECK(ToDoubles((*out)[0]) == expected);
    }
  }
  Tensor big = Tensor::FromVector<int64_t>({int64_t{1} << 40, 3, -(int64_t{1} << 41), 7}, {2, 2});
  auto sum64 = RunKernel({"Sum", {big, AxesTensor({0}, DT_INT32)}, ReduceAttrs(DT_INT64, false)});
  REQUIRE(sum64.ok());
  CHECK(ToDoubles((*sum64)[0]) == std::vector<double>{-(double)(int64_t{1} << 40), 10});
}

TEST_CASE("reducing an empty dimension gives the identity of the reduction") {
  Tensor x(DT_FLOAT, {3, 0});
  auto sum = RunKernel({"Sum", {x, AxesTensor({1}, DT_INT32)}, ReduceAttrs(DT_FLOAT, false)});
  REQUIRE(sum.ok());
  CHECK(ToDoubles((*sum)[0]) == std::vector<double>{0, 0, 0});
  auto max = RunKernel({"Max", {x, AxesTensor({1}, DT_INT32)}, ReduceAttrs(DT_FLOAT, false)});
  REQUIRE(max.ok());
  for (double v : ToDoubles((*max)[0])) CHECK(v == -std::numeric_limits<double>::infinity());
  auto mean = RunKernel({"Mean", {x, AxesTensor({1}, DT_INT32)}, ReduceAttrs(DT_FLOAT, false)});
  REQUIRE(mean.ok());
  for (double v : ToDoubles((*mean)[0])) CHECK(std::isnan(v));
}

TEST_CASE("reductions reject out-of-range axes, matrix axes and missing kernels") {
  std::mt19937 rng(33);
  Tensor x = RandomFloat({2, 3, 4}, rng);
  auto high = RunKernel({"Sum", {x, AxesTensor({3}, DT_INT32)}, ReduceAttrs(DT_FLOAT, false)});
  REQUIRE_FALSE(high.ok());
  REQUIRE_THAT(std::string(high.status().message()),
               Catch::Contains("axis 3 is out of range for input 0 of shape [2,3,4] (expected "
                               "in [-3, 3))"));
  auto low = RunKernel({"Mean", {x, AxesTensor({1, -4}, DT_INT64)},
                        ReduceAttrs(DT_FLOAT, true, DT_INT64)});
  REQUIRE_FALSE(low.ok());
  REQUIRE_THAT(std::string(low.status().message()), Catch::Contains("axis -4 is out of range"));

  Tensor matrix = Tensor::FromVector<int32_t>({0, 1}, {1, 2});
  auto bad_rank = RunKernel({"Sum", {x, matrix}, ReduceAttrs(DT_FLOAT, false)});
  REQUIRE_FALSE(bad_rank.ok());
  REQUIRE_THAT(std::string(bad_rank.status().message()),
               Catch::Contains("input 1 (reduction_indices) has shape [1,2], expected a scalar "
                               "or a vector"));

  auto mean_int = RunKernel({"Mean", {RandomInt32({2}, rng, 0, 5), AxesTensor({0}, DT_INT32)},
                             ReduceAttrs(DT_INT32, false)});
  REQUIRE_FALSE(mean_int.ok());
  REQUIRE_THAT(std::string(mean_int.status().message()),
               Catch::Contains("no CPU kernel for T=int32 (registered: float, double)"));
}

std::vector<std::pair<std::string, AttrValue>> ArgMaxAttrs(DataType t, DataType output_type) {
  return {{"T", MakeAttr(t)}, {"Tidx", MakeAttr(DT_INT32)}, {"output_type", MakeAttr(output_type)}};
}

// Index of the first largest value along `axis`, as int64 values in a double vector.
std::vector<double> ReferenceArgMax(const Tensor& input, int axis) {
  const std::vector<double> v = ToDoubles(input);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= input.dim(i);
  for (int i = axis + 1; i < input.rank(); ++i) inner *= input.dim(i);
  const int64_t r = input.dim(axis);
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t j = 0; j < r; ++j) {
        if (v[(o * r + j) * inner + i] > v[(o * r + best) * inner + i]) best = j;
      }
      out.push_back(static_cast<double>(best));
    }
  }
  return out;
}

TEST_CASE("ArgMax finds the first largest value along an axis") {
  std::mt19937 rng(34);
  Tensor x = RandomFloat({3, 4, 5}, rng);
  for (int axis : {0, 1, 2, -1, -3}) {
    const int a = axis < 0 ? axis + 3 : axis;
    INFO("axis " << axis);
    auto out = RunKernel({"ArgMax", {x, Tensor::Scalar<int32_t>(axis)},
                          ArgMaxAttrs(DT_FLOAT, DT_INT64)});
    REQUIRE(out.ok());
    REQUIRE((*out)[0].dtype() == DT_INT64);
    TensorShape expected_shape;
    for (int i = 0; i < 3; ++i) {
      if (i != a) expected_shape.AddDim(x.dim(i));
    }
    REQUIRE((*out)[0].shape() == expected_shape);
    CHECK(ToDoubles((*out)[0]) == ReferenceArgMax(x, a));
  }
  // Ties (few distinct int32 values) resolve to the first index; output_type int32.
  Tensor ties = RandomInt32({6, 9}, rng, 0, 2);
  auto out = RunKernel({"ArgMax", {ties, Tensor::Scalar<int32_t>(1)},
                        ArgMaxAttrs(DT_INT32, DT_INT32)});
  REQUIRE(out.ok());
  REQUIRE((*out)[0].dtype() == DT_INT32);
  CHECK(ToDoubles((*out)[0]) == ReferenceArgMax(ties, 1));
}

TEST_CASE("ArgMax rejects bad dimensions") {
  std::mt19937 rng(35);
  auto range = RunKernel({"ArgMax", {RandomFloat({3, 4}, rng), Tensor::Scalar<int32_t>(2)},
                          ArgMaxAttrs(DT_FLOAT, DT_INT64)});
  REQUIRE_FALSE(range.ok());
  REQUIRE_THAT(std::string(range.status().message()),
               Catch::Contains("axis 2 is out of range for input 0 of shape [3,4]"));
  auto empty = RunKernel({"ArgMax", {Tensor(DT_FLOAT, {3, 0}), Tensor::Scalar<int32_t>(1)},
                          ArgMaxAttrs(DT_FLOAT, DT_INT64)});
  REQUIRE_FALSE(empty.ok());
  REQUIRE_THAT(std::string(empty.status().message()),
               Catch::Contains("input 0 has shape [3,0], expected a non-empty dimension 1"));
  auto vector_dim = RunKernel({"ArgMax",
                               {RandomFloat({3, 4}, rng), Tensor::FromVector<int32_t>({1}, {1})},
                               ArgMaxAttrs(DT_FLOAT, DT_INT64)});
  REQUIRE_FALSE(vector_dim.ok());
  REQUIRE_THAT(std::string(vector_dim.status().message()),
               Catch::Contains("input 1 has shape [1], expected rank 0"));
}

}  // namespace
}  // namespace weir
