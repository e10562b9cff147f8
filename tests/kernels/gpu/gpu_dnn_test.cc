// gpu_dnn_test.cc - Convolution on the GPU against a float64 reference: the direct kernel
// (LaunchDirectConvNhwc, GpuDnn's fallback) and GpuDnn::Conv2D (cuDNN, or the fallback where
// cuDNN has no algorithm), over plain, strided, dilated, asymmetrically padded, grouped and
// depthwise shapes, on random inputs.
//
// Tolerance: 1e-4 relative to sum |x * w| over each output's window (the scale a dot product's
// rounding grows with), TF32 off. Without a GPU every case warns "SKIPPED: no GPU".
#include <catch2/catch.hpp>

#ifdef WEIR_HAVE_CUDA

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/gpu/dnn.h"
#include "kernels/gpu/dnn_kernels.h"
#include "tests/kernels/gpu/gpu_test_util.h"

namespace weir {
namespace gpu {
namespace {

using testing::DeviceBuffer;
using testing::RandomVector;

constexpr double kConvRtol = 1e-4;

struct Case {
  const char* name;
  ConvParams p;
};

// out = floor((in + pads - dilated_filter) / stride) + 1
int64_t OutSize(int64_t in, int64_t filter, int64_t stride, int64_t dilation, int64_t before,
                int64_t after) {
  const int64_t span = (filter - 1) * dilation + 1;
  return (in + before + after - span) / stride + 1;
}

ConvParams Make(int64_t batch, int64_t h, int64_t w, int64_t in_c, int64_t fh, int64_t fw,
                int64_t out_c, int64_t groups, int64_t stride, int64_t dilation, int64_t top,
                int64_t bottom, int64_t left, int64_t right) {
  ConvParams p;
  p.batch = batch;
  p.in_h = h;
  p.in_w = w;
  p.in_c = in_c;
  p.filter_h = fh;
  p.filter_w = fw;
  p.out_c = out_c;
  p.groups = groups;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.pad_top = top;
  p.pad_bottom = bottom;
  p.pad_left = left;
  p.pad_right = right;
  p.out_h = OutSize(h, fh, stride, dilation, top, bottom);
  p.out_w = OutSize(w, fw, stride, dilation, left, right);
  return p;
}

std::vector<Case> Cases() {
  return {
      {"3x3 stride 1, pad 1", Make(2, 9, 7, 5, 3, 3, 6, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 stride 2, SAME with the odd row after", Make(1, 8, 8, 4, 3, 3, 8, 1, 2, 1, 0, 1, 0, 1)},
      {"3x3 dilation 2, valid", Make(2, 11, 10, 3, 3, 3, 4, 1, 1, 2, 0, 0, 0, 0)},
      {"1x1", Make(3, 5, 5, 16, 1, 1, 7, 1, 1, 1, 0, 0, 0, 0)},
      {"grouped, 2 groups", Make(2, 7, 7, 6, 3, 3, 4, 2, 1, 1, 1, 1, 1, 1)},
      {"depthwise, multiplier 1", Make(2, 10, 9, 8, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1)},
      {"depthwise, multiplier 2, stride 2", Make(1, 12, 12, 6, 5, 5, 12, 6, 2, 1, 1, 2, 1, 2)},
  };
}

// Reference output and per-element error scale; filter in KRSC.
void Reference(const ConvParams& p, const std::vector<float>& x, const std::vector<float>& f,
               std::vector<double>* out, std::vector<double>* scale) {
  const int64_t cin_g = p.in_c / p.groups, cout_g = p.out_c / p.groups;
  out->assign(p.batch * p.out_h * p.out_w * p.out_c, 0.0);
  scale->assign(out->size(), 0.0);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t oc = 0; oc < p.out_c; ++oc) {
          double sum = 0, abs_sum = 0;
          const int64_t g = oc / cout_g;
          for (int64_t r = 0; r < p.filter_h; ++r) {
            const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
            if (ih < 0 || ih >= p.in_h) continue;
            for (int64_t q = 0; q < p.filter_w; ++q) {
              const int64_t iw = ow * p.stride_w - p.pad_left + q * p.dilation_w;
              if (iw < 0 || iw >= p.in_w) continue;
              for (int64_t c = 0; c < cin_g; ++c) {
                const double xv = x[((b * p.in_h + ih) * p.in_w + iw) * p.in_c + g * cin_g + c];
                const double wv = f[((oc * p.filter_h + r) * p.filter_w + q) * cin_g + c];
                sum += xv * wv;
                abs_sum += std::fabs(xv * wv);
              }
            }
          }
          const int64_t i = ((b * p.out_h + oh) * p.out_w + ow) * p.out_c + oc;
          (*out)[i] = sum;
          (*scale)[i] = abs_sum;
        }
}

void CheckClose(const std::vector<float>& got, const std::vector<double>& want,
                const std::vector<double>& scale, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= kConvRtol * scale[i] + 1e-6)) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++bad;
    }
  }
  INFO("first bad index " << first << (first >= 0 ? ": got " + std::to_string(got[first]) +
                                                        ", want " + std::to_string(want[first])
                                                  : std::string()));
  CHECK(bad == 0);
}

// Seeded random input and filter for `p`, with the reference output and its error scale.
struct ConvData {
  std::vector<float> x, f;
  std::vector<double> want, scale;
};

ConvData MakeConvData(const ConvParams& p, uint32_t* seed) {
  ConvData d;
  d.x = RandomVector<float>(p.batch * p.in_h * p.in_w * p.in_c, -1, 1, (*seed)++);
  d.f = RandomVector<float>(p.out_c * p.filter_h * p.filter_w * (p.in_c / p.groups), -1, 1,
                            (*seed)++);
  Reference(p, d.x, d.f, &d.want, &d.scale);
  return d;
}

TEST_CASE("gpu direct convolution matches a float64 reference") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  uint32_t seed = 11;
  for (const Case& c : Cases()) {
    const ConvData d = MakeConvData(c.p, &seed);
    DeviceBuffer<float> dx(d.x), df(d.f), dy(d.want.size());
    WEIR_REQUIRE_OK(
        LaunchDirectConvNhwc(DirectConvShapeOf(c.p), dx.get(), df.get(), dy.get(), nullptr));
    CheckClose(dy.ToHost(), d.want, d.scale, c.name);
  }
}

TEST_CASE("gpu direct convolution rejects bad shapes") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  DirectConvShape s;
  s.batch = 1;
  s.in_h = s.in_w = 4;
  s.in_c = 3;
  s.filter_h = s.filter_w = 1;
  s.out_c = 4;
  s.groups = 2;  // 3 channels are not a multiple of 2
  s.out_h = s.out_w = 4;
  CHECK_FALSE(LaunchDirectConvNhwc(s, nullptr, nullptr, nullptr, nullptr).ok());
}

#ifdef WEIR_HAVE_CUDNN
// GpuDnn::Conv2D on fresh data for `c` (with the scratch an asymmetric padding needs), checked
// against the reference.
void CheckDnnConv(GpuDnn& dnn, const Case& c, uint32_t* seed) {
  const ConvParams& p = c.p;
  const ConvData d = MakeConvData(p, seed);
  DeviceBuffer<float> dx(d.x), df(d.f), dy(d.want.size());
  const size_t scratch_bytes = GpuDnn::ConvScratchBytes(p);
  DeviceBuffer<char> scratch(scratch_bytes);
  WEIR_REQUIRE_OK(dnn.Conv2D(p, dx.get(), df.get(), dy.get(),
                             scratch_bytes > 0 ? scratch.get() : nullptr, scratch_bytes, nullptr));
  CheckClose(dy.ToHost(), d.want, d.scale, c.name);
}

TEST_CASE("gpu GpuDnn::Conv2D (cuDNN or its fallback) matches a float64 reference") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuDnn> dnn;
  WEIR_REQUIRE_OK(GpuDnn::Create(&dnn));
  uint32_t seed = 101;
  for (const Case& c : Cases()) {
    const int64_t direct_before = dnn->num_direct_plans();
    CheckDnnConv(*dnn, c, &seed);
    if (dnn->num_direct_plans() > direct_before) {
      WARN(c.name << ": cuDNN had no algorithm; the direct kernel ran");
    }
  }
}

TEST_CASE("gpu GpuDnn::Conv2D forced onto the direct kernel matches, twice per shape") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuDnn> dnn;
  WEIR_REQUIRE_OK(GpuDnn::Create(&dnn));
  dnn->ForceDirectForTesting(true);
  uint32_t seed = 301;
  const std::vector<Case> cases = Cases();
  for (const Case& c : cases) {
    // The second call finds the cached direct plan.
    for (int call = 0; call < 2; ++call) {
      INFO("call " << call);
      CheckDnnConv(*dnn, c, &seed);
    }
  }
  CHECK(dnn->num_direct_plans() == static_cast<int64_t>(cases.size()));
}
#endif  // WEIR_HAVE_CUDNN

}  // namespace
}  // namespace gpu
}  // namespace weir

#else  // !WEIR_HAVE_CUDA

TEST_CASE("gpu convolution tests need a CUDA build") { WARN("SKIPPED: no GPU (no CUDA in this build)"); }

#endif  // WEIR_HAVE_CUDA
