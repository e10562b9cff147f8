// fused_kernels_test.cc - Tests for kernels/cpu/fused_kernels.cc: _FusedMatMul, _FusedConv2D and
// _FusedDepthwiseConv2dNative with every supported fused_ops list ([BiasAdd] and [BiasAdd, A]
// for each activation A) against float64 references on random data; plus bad-input messages.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "builder/ops.h"
#include "runtime/session.h"
#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::KernelRun;
using testing::MaxRelativeError;
using testing::RandomFloat;
using testing::RunKernel;

// float32 accumulation over at most ~300 products of values in [-1, 1], then one activation
// (oneDNN's exp and activation_float.h's tanh / sigmoid are accurate to a few ulp): relative to
// max(1, |ref|).
constexpr double kTolerance = 2e-5 * 300 / 100;

const std::vector<std::vector<std::string>> kFusedOpLists = {
    {"BiasAdd"},         {"BiasAdd", "Relu"},    {"BiasAdd", "Relu6"},
    {"BiasAdd", "Elu"},  {"BiasAdd", "LeakyRelu"}, {"BiasAdd", "Tanh"},
    {"BiasAdd", "Sigmoid"}};

constexpr float kLeakyAlpha = 0.3f;

double Activate(const std::vector<std::string>& ops, double x) {
  if (ops.size() < 2) return x;
  const std::string& a = ops[1];
  if (a == "Relu") return x > 0 ? x : 0;
  if (a == "Relu6") return std::min(std::max(x, 0.0), 6.0);
  if (a == "Elu") return x > 0 ? x : std::expm1(x);
  if (a == "LeakyRelu") return x > 0 ? x : kLeakyAlpha * x;
  if (a == "Tanh") return std::tanh(x);
  if (a == "Sigmoid") return 1.0 / (1.0 + std::exp(-x));
  return x;
}

std::string Join(const std::vector<std::string>& ops) {
  std::string s;
  for (const std::string& o : ops) s += (s.empty() ? "" : ",") + o;
  return s;
}

TEST_CASE("_FusedMatMul matches a float64 reference for every fused_ops list") {
  std::mt19937 rng(11);
  for (const auto& ops : kFusedOpLists) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const int64_t m = 5, k = 37, n = 19;
        // Scaled so pre-activations reach past Relu6's 6 and into tanh/sigmoid saturation.
        Tensor a = RandomFloat(ta ? TensorShape{k, m} : TensorShape{m, k}, rng, -2.f, 2.f);
        Tensor b = RandomFloat(tb ? TensorShape{n, k} : TensorShape{k, n}, rng, -1.f, 1.f);
        Tensor bias = RandomFloat(TensorShape{n}, rng, -2.f, 2.f);
        INFO(Join(ops) << " transpose_a " << ta << " transpose_b " << tb);
        KernelRun run{"_FusedMatMul",
                      {a, b, bias},
                      {{"T", MakeAttr(DT_FLOAT)},
                       {"num_args", MakeAttr(int64_t{1})},
                       {"fused_ops", MakeAttr(ops)},
                       {"transpose_a", MakeAttr(ta)},
                       {"transpose_b", MakeAttr(tb)},
                       {"leakyrelu_alpha", MakeAttr(kLeakyAlpha)}}};
        absl::StatusOr<std::vector<Tensor>> out = RunKernel(run);
        INFO(out.status().message());
        REQUIRE(out.ok());
        auto av = a.flat<float>(), bv = b.flat<float>(), biasv = bias.flat<float>();
        std::vector<double> ref(m * n);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double acc = biasv[j];
            for (int64_t p = 0; p < k; ++p) {
              const double x = av[ta ? p * m + i : i * k + p];
              const double y = bv[tb ? j * k + p : p * n + j];
              acc += x * y;
            }
            ref[i * n + j] = Activate(ops, acc);
          }
        }
        CHECK(MaxRelativeError((*out)[0], ref) < kTolerance);
      }
    }
  }
}

// A direct float64 convolution over NHWC data with an HWIO (or depthwise HWCM) filter.
std::vector<double> ReferenceConv(const Tensor& input, const Tensor& filter, const Tensor& bias,
                                  bool depthwise, int stride, bool same, int64_t* out_h,
                                  int64_t* out_w, const std::vector<std::string>& ops) {
  const int64_t n = input.dim(0), h = input.dim(1), w = input.dim(2), c = input.dim(3);
  const int64_t kh = filter.dim(0), kw = filter.dim(1), fm = filter.dim(3);
  const int64_t oc = depthwise ? c * fm : fm;
  int64_t pad_t = 0, pad_l = 0;
  if (same) {
    *out_h = (h + stride - 1) / stride;
    *out_w = (w + stride - 1) / stride;
    pad_t = std::max<int64_t>((*out_h - 1) * stride + kh - h, 0) / 2;
    pad_l = std::max<int64_t>((*out_w - 1) * stride + kw - w, 0) / 2;
  } else {
    *out_h = (h - kh + stride) / stride;
    *out_w = (w - kw + stride) / stride;
  }
  auto in = input.flat<float>(), f = filter.flat<float>(), bv = bias.flat<float>();
  std::vector<double> out(n * *out_h * *out_w * oc);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t y = 0; y < *out_h; ++y) {
      for (int64_t x = 0; x < *out_w; ++x) {
        for (int64_t o = 0; o < oc; ++o) {
          double acc = bv[o];
          for (int64_t i = 0; i < kh; ++i) {
            for (int64_t j = 0; j < kw; ++j) {
              const int64_t iy = y * stride + i - pad_t, ix = x * stride + j - pad_l;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const int64_t base = ((b * h + iy) * w + ix) * c;
              if (depthwise) {
                const int64_t ci = o / fm, mi = o % fm;
                acc += in[base + ci] * static_cast<double>(f[((i * kw + j) * c + ci) * fm + mi]);
              } else {
                for (int64_t ci = 0; ci < c; ++ci) {
                  acc += in[base + ci] * static_cast<double>(f[((i * kw + j) * c + ci) * fm + o]);
                }
              }
            }
          }
          out[((b * *out_h + y) * *out_w + x) * oc + o] = Activate(ops, acc);
        }
      }
    }
  }
  return out;
}

void CheckConv(bool depthwise) {
  std::mt19937 rng(depthwise ? 23 : 17);
  for (const auto& ops : kFusedOpLists) {
    for (int stride : {1, 2}) {
      for (bool same : {true, false}) {
        const int64_t c = 6, m = depthwise ? 2 : 8;
        Tensor input = RandomFloat(TensorShape{2, 7, 6, c}, rng, -1.f, 1.f);
        Tensor filter = RandomFloat(TensorShape{3, 3, c, m}, rng, -1.f, 1.f);
        const int64_t oc = depthwise ? c * m : m;
        Tensor bias = RandomFloat(TensorShape{oc}, rng, -2.f, 2.f);
        INFO(Join(ops) << " stride " << stride << (same ? " SAME" : " VALID"));
        std::vector<std::pair<std::string, AttrValue>> attrs = {
            {"T", MakeAttr(DT_FLOAT)},
            {"num_args", MakeAttr(int64_t{1})},
            {"fused_ops", MakeAttr(ops)},
            {"strides", MakeAttr(std::vector<int64_t>{1, stride, stride, 1})},
            {"padding", MakeAttr(same ? "SAME" : "VALID")},
            {"leakyrelu_alpha", MakeAttr(kLeakyAlpha)}};
        if (!depthwise) attrs.push_back({"TArgs", MakeAttr(std::vector<DataType>{DT_FLOAT})});
        KernelRun run{depthwise ? "_FusedDepthwiseConv2dNative" : "_FusedConv2D",
                      {input, filter, bias},
                      attrs};
        absl::StatusOr<std::vector<Tensor>> out = RunKernel(run);
        INFO(out.status().message());
        REQUIRE(out.ok());
        int64_t oh = 0, ow = 0;
        std::vector<double> ref =
            ReferenceConv(input, filter, bias, depthwise, stride, same, &oh, &ow, ops);
        CHECK((*out)[0].shape() == TensorShape{2, oh, ow, oc});
        CHECK(MaxRelativeError((*out)[0], ref) < kTolerance);
      }
    }
  }
}

TEST_CASE("_FusedConv2D matches a float64 reference for every fused_ops list") {
  CheckConv(false);
}

TEST_CASE("_FusedDepthwiseConv2dNative matches a float64 reference for every fused_ops list") {
  CheckConv(true);
}

TEST_CASE("fused kernels report unsupported fused_ops and bad bias shapes") {
  std::mt19937 rng(5);
  Tensor a = RandomFloat(TensorShape{2, 3}, rng);
  Tensor b = RandomFloat(TensorShape{3, 4}, rng);
  SECTION("an unsupported activation") {
    KernelRun run{"_FusedMatMul",
                  {a, b, RandomFloat(TensorShape{4}, rng)},
                  {{"T", MakeAttr(DT_FLOAT)},
                   {"num_args", MakeAttr(int64_t{1})},
                   {"fused_ops", MakeAttr(std::vector<std::string>{"BiasAdd", "Softplus"})}}};
    absl::StatusOr<std::vector<Tensor>> out = RunKernel(run);
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("op_under_test") && Catch::Contains("[BiasAdd,Softplus]") &&
                   Catch::Contains("found Softplus"));
  }
  SECTION("a bias of the wrong length") {
    KernelRun run{"_FusedMatMul",
                  {a, b, RandomFloat(TensorShape{5}, rng)},
                  {{"T", MakeAttr(DT_FLOAT)},
                   {"num_args", MakeAttr(int64_t{1})},
                   {"fused_ops", MakeAttr(std::vector<std::string>{"BiasAdd"})}}};
    absl::StatusOr<std::vector<Tensor>> out = RunKernel(run);
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()),
               Catch::Contains("[5]") && Catch::Contains("expected [4]"));
  }
  SECTION("an empty fused_ops list") {
    KernelRun run{"_FusedMatMul",
                  {a, b, RandomFloat(TensorShape{4}, rng)},
                  {{"T", MakeAttr(DT_FLOAT)},
                   {"num_args", MakeAttr(int64_t{1})},
                   {"fused_ops", MakeAttr(std::vector<std::string>{})}}};
    absl::StatusOr<std::vector<Tensor>> out = RunKernel(run);
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(std::string(out.status().message()), Catch::Contains("fused_ops is empty"));
  }
}

TEST_CASE("a Dense layer with Const weights fuses and multiplies a padded copy of them") {
  // MatMul(x, Const w) + BiasAdd + Relu becomes one _FusedMatMul whose Const b is copied with
  // a padded leading dimension when that is a multiple of 64 floats (kernels/cpu/gemm_weights.h):
  // (128, 256) and (256, 128) do, (96, 40) does not. Checked against float64 for both
  // transpose_b and several batch sizes through one session.
  std::mt19937 rng(83);
  for (const auto& [k, n] : std::vector<std::pair<int64_t, int64_t>>{{128, 256}, {256, 128},
                                                                      {96, 40}}) {
    for (bool transpose_b : {false, true}) {
      CAPTURE(k, n, transpose_b);
      Tensor w = RandomFloat(transpose_b ? TensorShape{n, k} : TensorShape{k, n}, rng);
      Tensor bias = RandomFloat({n}, rng);
      TensorProto w_proto, bias_proto;
      w.ToProto(&w_proto);
      bias.ToProto(&bias_proto);
      Scope scope = Scope::NewRootScope();
      Output x = ops::Placeholder(scope.WithOpName("x"), DT_FLOAT, PartialShape{-1, k});
      Output mm = ops::MatMul(scope.WithOpName("mm"), x, ops::Const(scope.WithOpName("w"), w_proto),
                              false, transpose_b);
      Output biased = ops::BiasAdd(scope.WithOpName("biased"), mm,
                                   ops::Const(scope.WithOpName("bias"), bias_proto));
      ops::Relu(scope.WithOpName("y"), biased);
      GraphDef def;
      REQUIRE(scope.ToGraphDef(&def).ok());
      auto session = Session::Create(def, SessionOptions());
      REQUIRE(session.ok());
      for (int64_t m : {1, 64, 5}) {
        Tensor xin = RandomFloat({m, k}, rng);
        std::vector<double> ref(m * n);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double sum = bias.data<float>()[j];
            for (int64_t t = 0; t < k; ++t) {
              const float wv = transpose_b ? w.data<float>()[j * k + t] : w.data<float>()[t * n + j];
              sum += static_cast<double>(xin.data<float>()[i * k + t]) * wv;
            }
            ref[i * n + j] = std::max(sum, 0.0);
          }
        }
        RunOptions options;
        options.trace_level = RunOptions::kFullTrace;
        RunMetadata metadata;
        std::vector<Tensor> out;
        REQUIRE((*session)->Run(options, {{"x", xin}}, {"y"}, {}, &out, &metadata).ok());
        CHECK(MaxRelativeError(out[0], ref) < kTolerance);
        bool fused = false;
        for (const auto& dev : metadata.step_stats().dev_stats()) {
          for (const auto& node : dev.node_stats()) fused |= node.timeline_label() == "_FusedMatMul";
        }
        CHECK(fused);
      }
    }
  }
}

}  // namespace
}  // namespace weir
