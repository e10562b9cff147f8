// conv_kernels_test.cc - Tests for kernels/cpu/conv_kernels.cc: Conv2D (plain and grouped)
// and DepthwiseConv2dNative against a naive float64 direct convolution on random inputs, over
// padding SAME/VALID/EXPLICIT, strides, dilations and NHWC/NCHW; a Const filter (reordered once
// per primitive) over several input sizes; plus bad-input messages.
#include <array>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "builder/ops.h"
#include "graph/graph.h"
#include "kernels/registry.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::KernelRun;
using testing::MaxRelativeError;
using testing::RandomFloat;
using testing::RunKernel;

// float32 accumulation over at most a few hundred products of values in [-1, 1].
constexpr double kTolerance = 1e-4;

struct ConvCase {
  std::string data_format = "NHWC";
  std::string padding = "SAME";
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  // pad_top, pad_bottom, pad_left, pad_right for EXPLICIT.
  std::vector<int> pads{0, 0, 0, 0};
};

std::string Describe(const ConvCase& c) {
  return c.data_format + " " + c.padding + " strides " + std::to_string(c.stride_h) + "," +
         std::to_string(c.stride_w) + " dilations " + std::to_string(c.dilation_h) + "," +
         std::to_string(c.dilation_w);
}

// Attr lists in the node's data_format order.
std::vector<int> FourInts(const std::string& data_format, int h, int w) {
  return data_format == "NCHW" ? std::vector<int>{1, 1, h, w} : std::vector<int>{1, h, w, 1};
}

// Dimensions are given as N, H, W, C and laid out in `data_format`.
TensorShape DataShape(const std::string& data_format, int64_t n, int64_t h, int64_t w,
                      int64_t c) {
  return data_format == "NCHW" ? TensorShape{n, c, h, w} : TensorShape{n, h, w, c};
}

int64_t DataIndex(const std::string& data_format, const TensorShape& s, int64_t n, int64_t h,
                  int64_t w, int64_t c) {
  if (data_format == "NCHW") return ((n * s.dim(1) + c) * s.dim(2) + h) * s.dim(3) + w;
  return ((n * s.dim(1) + h) * s.dim(2) + w) * s.dim(3) + c;
}

// TensorFlow's output size and leading padding of one spatial dimension.
void Geometry(const std::string& padding, int64_t in, int64_t k, int dilation, int stride,
              int pad_before, int pad_after, int64_t* out, int64_t* before) {
  const int64_t eff = (k - 1) * dilation + 1;
  if (padding == "VALID") {
    *out = (in - eff + stride) / stride;
    *before = 0;
  } else if (padding == "SAME") {
    *out = (in + stride - 1) / stride;
    *before = std::max<int64_t>((*out - 1) * stride + eff - in, 0) / 2;
  } else {
    *out = (in + pad_before + pad_after - eff + stride) / stride;
    *before = pad_before;
  }
}

// Naive direct convolution in double. The filter is [kh, kw, in_c / groups, out_c] for
// Conv2D; for depthwise it is [kh, kw, in_c, multiplier] with out channel c * multiplier + m.
struct Reference {
  TensorShape shape;
  std::vector<double> values;
};

Reference ReferenceConv(const Tensor& input, const Tensor& filter, const ConvCase& c,
                        bool depthwise) {
  const std::string& f = c.data_format;
  const TensorShape& is = input.shape();
  const bool nchw = f == "NCHW";
  const int64_t n = is.dim(0), in_h = is.dim(nchw ? 2 : 1), in_w = is.dim(nchw ? 3 : 2),
                in_c = is.dim(nchw ? 1 : 3);
  const int64_t kh = filter.dim(0), kw = filter.dim(1), f_in = filter.dim(2),
                f_out = filter.dim(3);
  const int64_t out_c = depthwise ? in_c * f_out : f_out;
  const int64_t groups = depthwise ? in_c : in_c / f_in;
  const int64_t group_out = out_c / groups;
  int64_t out_h, out_w, top, left;
  Geometry(c.padding, in_h, kh, c.dilation_h, c.stride_h, c.pads[0], c.pads[1], &out_h, &top);
  Geometry(c.padding, in_w, kw, c.dilation_w, c.stride_w, c.pads[2], c.pads[3], &out_w, &left);
  Reference ref{DataShape(f, n, out_h, out_w, out_c), {}};
  ref.values.assign(ref.shape.num_elements(), 0.0);
  const float* x = input.data<float>();
  const float* w = filter.data<float>();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t oy = 0; oy < out_h; ++oy) {
      for (int64_t ox = 0; ox < out_w; ++ox) {
        for (int64_t oc = 0; oc < out_c; ++oc) {
          const int64_t g = oc / group_out;
          double sum = 0;
          for (int64_t fy = 0; fy < kh; ++fy) {
            const int64_t iy = oy * c.stride_h - top + fy * c.dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int64_t fx = 0; fx < kw; ++fx) {
              const int64_t ix = ox * c.stride_w - left + fx * c.dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              if (depthwise) {
                const int64_t ic = g, m = oc % group_out;
                sum += static_cast<double>(x[DataIndex(f, is, b, iy, ix, ic)]) *
                       w[((fy * kw + fx) * in_c + ic) * f_out + m];
              } else {
                for (int64_t i = 0; i < f_in; ++i) {
                  const int64_t ic = g * f_in + i;
                  sum += static_cast<double>(x[DataIndex(f, is, b, iy, ix, ic)]) *
                         w[((fy * kw + fx) * f_in + i) * f_out + oc];
                }
              }
            }
          }
          ref.values[DataIndex(f, ref.shape, b, oy, ox, oc)] = sum;
        }
      }
    }
  }
  return ref;
}

KernelRun ConvRun(const std::string& op, const Tensor& input, const Tensor& filter,
                  const ConvCase& c) {
  KernelRun run{op, {input, filter}, {}};
  run.attrs = {{"T", MakeAttr(DT_FLOAT)},
               {"strides", MakeAttr(FourInts(c.data_format, c.stride_h, c.stride_w))},
               {"dilations", MakeAttr(FourInts(c.data_format, c.dilation_h, c.dilation_w))},
               {"padding", MakeAttr(c.padding)},
               {"data_format", MakeAttr(c.data_format)}};
  if (c.padding == "EXPLICIT") {
    std::vector<int> explicit_paddings(8, 0);
    const int h = c.data_format == "NCHW" ? 2 : 1;
    explicit_paddings[2 * h] = c.pads[0];
    explicit_paddings[2 * h + 1] = c.pads[1];
    explicit_paddings[2 * h + 2] = c.pads[2];
    explicit_paddings[2 * h + 3] = c.pads[3];
    run.attrs.push_back({"explicit_paddings", MakeAttr(explicit_paddings)});
  }
  return run;
}

std::vector<ConvCase> AllCases() {
  std::vector<ConvCase> cases;
  for (const char* format : {"NHWC", "NCHW"}) {
    for (const char* padding : {"SAME", "VALID", "EXPLICIT"}) {
      for (int variant = 0; variant < 4; ++variant) {
        ConvCase c;
        c.data_format = format;
        c.padding = padding;
        if (variant == 1) c.stride_h = 2, c.stride_w = 3;
        if (variant == 2) c.dilation_h = 2, c.dilation_w = 3;
        if (variant == 3) c.stride_h = 2, c.dilation_w = 2;
        if (c.padding == "EXPLICIT") c.pads = {1, 2, 0, 3};
        cases.push_back(c);
      }
    }
  }
  return cases;
}

void CheckAgainstReference(const std::string& op, const Tensor& input, const Tensor& filter,
                           const ConvCase& c) {
  INFO(op << " " << Describe(c) << " input " << input.shape().ToString() << " filter "
          << filter.shape().ToString());
  const bool depthwise = op == "DepthwiseConv2dNative";
  absl::StatusOr<std::vector<Tensor>> out = RunKernel(ConvRun(op, input, filter, c));
  if (!out.ok()) FAIL(out.status().message());
  const Reference ref = ReferenceConv(input, filter, c, depthwise);
  REQUIRE((*out)[0].shape() == ref.shape);
  CHECK(MaxRelativeError((*out)[0], ref.values) < kTolerance);
}

TEST_CASE("Conv2D matches a float64 direct convolution") {
  std::mt19937 rng(42);
  for (const ConvCase& c : AllCases()) {
    const Tensor input = RandomFloat(DataShape(c.data_format, 2, 9, 11, 3), rng);
    const Tensor filter = RandomFloat({3, 2, 3, 5}, rng);
    CheckAgainstReference("Conv2D", input, filter, c);
  }
}

TEST_CASE("Conv2D with a 1x1 filter and with a filter as large as the input") {
  std::mt19937 rng(7);
  for (const char* format : {"NHWC", "NCHW"}) {
    ConvCase c;
    c.data_format = format;
    CheckAgainstReference("Conv2D", RandomFloat(DataShape(format, 1, 5, 4, 8), rng),
                          RandomFloat({1, 1, 8, 16}, rng), c);
    c.padding = "VALID";
    CheckAgainstReference("Conv2D", RandomFloat(DataShape(format, 3, 5, 4, 2), rng),
                          RandomFloat({5, 4, 2, 3}, rng), c);
  }
}

TEST_CASE("Conv2D with fewer filter input channels than input channels is grouped") {
  std::mt19937 rng(3);
  for (const char* format : {"NHWC", "NCHW"}) {
    ConvCase c;
    c.data_format = format;
    c.stride_w = 2;
    // 6 input channels, 2 per group: 3 groups of 2 output channels each.
    CheckAgainstReference("Conv2D", RandomFloat(DataShape(format, 2, 6, 7, 6), rng),
                          RandomFloat({3, 3, 2, 6}, rng), c);
  }
}

TEST_CASE("DepthwiseConv2dNative matches a float64 direct convolution") {
  std::mt19937 rng(11);
  for (const ConvCase& c : AllCases()) {
    const Tensor input = RandomFloat(DataShape(c.data_format, 2, 8, 7, 4), rng);
    for (int64_t multiplier : {1, 3}) {
      const Tensor filter = RandomFloat({3, 3, 4, multiplier}, rng);
      CheckAgainstReference("DepthwiseConv2dNative", input, filter, c);
    }
  }
}

TEST_CASE("Conv2D and DepthwiseConv2dNative with a Const filter match the reference at any size") {
  // A filter straight from a Const node is reordered into the primitive's layout once, when the
  // primitive for an input shape is created, and that copy serves later calls: one kernel runs
  // several input sizes (a primitive and a copy each), then the first size again (cached).
  std::mt19937 rng(23);
  struct FilterCase {
    const char* op;
    TensorShape filter;
    const char* data_format;
    int stride;
  };
  for (const FilterCase& fc : std::vector<FilterCase>{
           {"Conv2D", {3, 3, 8, 16}, "NHWC", 1},
           {"Conv2D", {1, 1, 8, 24}, "NCHW", 1},
           {"Conv2D", {3, 3, 4, 6}, "NHWC", 2},  // grouped: 2 groups of 4 input channels
           {"DepthwiseConv2dNative", {3, 3, 8, 1}, "NHWC", 1},
           {"DepthwiseConv2dNative", {3, 3, 8, 2}, "NCHW", 2}}) {
    for (int threads : {1, 2}) {
      const bool depthwise = std::string(fc.op) == "DepthwiseConv2dNative";
      ConvCase c;
      c.data_format = fc.data_format;
      c.stride_h = c.stride_w = fc.stride;
      Scope scope = Scope::NewRootScope();
      const Tensor filter = RandomFloat(fc.filter, rng);
      TensorProto proto;
      filter.ToProto(&proto);
      Output x = ops::Placeholder(scope.WithOpName("x"), DT_FLOAT);
      Output w = ops::Const(scope.WithOpName("w"), proto);
      const std::vector<int> strides = FourInts(c.data_format, fc.stride, fc.stride);
      ops::ConvAttrs attrs;
      attrs.data_format = c.data_format;
      const std::vector<int64_t> strides64(strides.begin(), strides.end());
      Output conv = depthwise
                        ? ops::DepthwiseConv2dNative(scope.WithOpName("conv"), x, w, strides64,
                                                     attrs)
                        : ops::Conv2D(scope.WithOpName("conv"), x, w, strides64, attrs);
      REQUIRE(scope.ok());
      CpuDevice device(threads);
      auto kernel = CreateKernel(DefaultKernelRegistry(), *conv.node(), &device);
      REQUIRE(kernel.ok());
      const int64_t in_c = depthwise ? fc.filter.dim(2) : 8;
      for (const auto& [n, h, wd] : std::vector<std::array<int64_t, 3>>{
               {1, 7, 7}, {2, 12, 9}, {1, 20, 20}, {3, 5, 6}, {1, 7, 7}}) {
        INFO(fc.op << " filter " << fc.filter.ToString() << " " << fc.data_format << " stride "
                   << fc.stride << " threads " << threads << " input N,H,W " << n << "," << h
                   << "," << wd);
        const Tensor input = RandomFloat(DataShape(c.data_format, n, h, wd, in_c), rng);
        std::vector<Tensor> inputs = {input, filter};
        std::vector<Tensor> outputs(1);
        KernelContext ctx(&device, nullptr, &inputs, &outputs);
        const absl::Status s = (*kernel)->Compute(&ctx);
        if (!s.ok()) FAIL(s.message());
        const Reference ref = ReferenceConv(input, filter, c, depthwise);
        REQUIRE(outputs[0].shape() == ref.shape);
        CHECK(MaxRelativeError(outputs[0], ref.values) < kTolerance);
      }
    }
  }
}

TEST_CASE("Conv2D with an empty batch gives an empty output") {
  std::mt19937 rng(5);
  ConvCase c;
  absl::StatusOr<std::vector<Tensor>> out = RunKernel(
      ConvRun("Conv2D", Tensor(DT_FLOAT, {0, 4, 4, 2}), RandomFloat({3, 3, 2, 5}, rng), c));
  REQUIRE(out.ok());
  CHECK((*out)[0].shape() == TensorShape{0, 4, 4, 5});
}

TEST_CASE("Conv2D reports bad inputs and attrs") {
  std::mt19937 rng(9);
  const Tensor input = RandomFloat({1, 5, 5, 4}, rng);
  ConvCase c;

  SECTION("filter of the wrong rank") {
    auto out = RunKernel(ConvRun("Conv2D", input, RandomFloat({3, 3, 4}, rng), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("node 'op_under_test' (Conv2D): input 1 has shape [3,3,4], "
                               "expected rank 4"));
  }
  SECTION("filter depth that does not divide the input depth") {
    auto out = RunKernel(ConvRun("Conv2D", input, RandomFloat({3, 3, 3, 2}, rng), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("expected dimension 2 to divide 4"));
  }
  SECTION("input with no channels") {
    auto out = RunKernel(
        ConvRun("Conv2D", Tensor(DT_FLOAT, {1, 5, 5, 0}), RandomFloat({3, 3, 2, 2}, rng), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("expected dimension 2 to divide 0"));
  }
  SECTION("depthwise filter depth different from the input depth") {
    auto out =
        RunKernel(ConvRun("DepthwiseConv2dNative", input, RandomFloat({3, 3, 2, 1}, rng), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("expected dimension 2 to be 4"));
  }
  SECTION("stride in the batch dimension") {
    KernelRun run = ConvRun("Conv2D", input, RandomFloat({3, 3, 4, 2}, rng), c);
    run.attrs[1].second = MakeAttr(std::vector<int>{2, 1, 1, 1});
    auto out = RunKernel(run);
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("strides is [2,1,1,1], expected 1 in the batch and channel "
                               "dimensions"));
  }
  SECTION("explicit_paddings of the wrong length") {
    c.padding = "EXPLICIT";
    KernelRun run = ConvRun("Conv2D", input, RandomFloat({3, 3, 4, 2}, rng), c);
    run.attrs.back().second = MakeAttr(std::vector<int>{0, 0, 1, 1});
    auto out = RunKernel(run);
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("explicit_paddings has 4 entries, expected 8"));
  }
  SECTION("window larger than the input with VALID padding") {
    c.padding = "VALID";
    c.dilation_h = 3;
    auto out = RunKernel(ConvRun("Conv2D", input, RandomFloat({3, 3, 4, 2}, rng), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("computed output size would be negative"));
  }
  SECTION("filter with a zero dimension") {
    auto out = RunKernel(ConvRun("Conv2D", input, Tensor(DT_FLOAT, {3, 3, 4, 0}), c));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("expected no zero dimensions"));
  }
}

}  // namespace
}  // namespace weir
