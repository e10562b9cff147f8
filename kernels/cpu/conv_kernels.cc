// conv_kernels.cc - Conv2D and DepthwiseConv2dNative on the CPU through oneDNN's convolution
// primitive (float32), plus the shared window geometry of the convolution family.
//
// The input and output stay in the node's layout (NHWC or NCHW, described to oneDNN as nhwc or
// nchw); the filter is TensorFlow's HWIO (HWCM for depthwise), described to oneDNN with
// explicit strides as a grouped weights tensor, so no transpose is made by hand
// (onednn_conv.h). A primitive is created the first time the kernel sees an (input, filter)
// shape and cached. The primitive picks its preferred weights layout ("any"): a filter that
// comes straight from a Const node is reordered into it once, when the primitive is created,
// and kept; any other filter (a variable may change between calls) is reordered on every call.
#include "kernels/cpu/conv_kernels.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/gemm_weights.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/onednn_conv.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace conv_internal {


}  // namespace conv_internal

namespace {

using conv_internal::ConvKey;
using conv_internal::ConvShape;
using conv_internal::ForwardConv;
using conv_internal::Layout;
using conv_internal::WindowAttrs;

// Conv2D (depthwise_ = false) and DepthwiseConv2dNative (depthwise_ = true), float32.
class ConvKernel : public OpKernel {
 public:
  ConvKernel(const KernelConstruction& c, bool depthwise)
      : OpKernel(c),
        attrs_(conv_internal::ReadWindowAttrs(c)),
        depthwise_(depthwise),
        const_filter_(InputIsConst(c, 1)) {}

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = conv_internal::CheckWindowAttrs(attrs_, false); !s.ok()) return s;
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    absl::StatusOr<ConvShape> checked =
        conv_internal::ForwardConvShape(attrs_.layout, input, filter, depthwise_);
    if (!checked.ok()) return checked.status();
    ConvShape& shape = *checked;
    if (auto s = conv_internal::ComputeConvGeometry(attrs_, shape); !s.ok()) return s;
    absl::StatusOr<Tensor*> output = ctx->allocate_output(
        0, DT_FLOAT,
        TensorShape(conv_internal::DataDims(attrs_.layout, shape.batch, shape.h.out, shape.w.out,
                                            shape.out_c())));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();
    if (shape.in_c == 0) {
      std::memset((*output)->raw_data(), 0, (*output)->TotalBytes());
      return absl::OkStatus();
    }

    const int team = onednn::UseIntraOpThreads(
        ctx->device(),
        2.0 * static_cast<double>((*output)->num_elements()) * shape.kh * shape.kw *
            shape.group_in);
    const ConvKey key{shape.batch, shape.in_h,    shape.in_w,    shape.in_c, shape.kh,
                      shape.kw,    filter.dim(2), filter.dim(3), team};
    absl::StatusOr<ForwardConv> p = cache_.Get(
        key,
        [&] {
          return conv_internal::CreateForwardConv(attrs_, shape, /*with_bias=*/false,
                                                  onednn::UserScratchpadAttr(),
                                                  const_filter_ ? filter.raw_data() : nullptr);
        },
        [&] { return conv_internal::DescribeConvKey("oneDNN convolution", key); });
    if (!p.ok()) return p.status();
    return conv_internal::RunForwardConv(ctx, *p, input, filter, /*bias=*/nullptr, **output,
                                         "oneDNN convolution");
  }

 private:
  const WindowAttrs attrs_;
  const bool depthwise_;
  // The filter comes straight from a Const node: it is reordered once per primitive.
  const bool const_filter_;
  onednn::PrimitiveCache<ConvKey, ForwardConv> cache_;
};

class Conv2DKernel : public ConvKernel {
 public:
  explicit Conv2DKernel(const KernelConstruction& c) : ConvKernel(c, false) {}
};

class DepthwiseConv2dNativeKernel : public ConvKernel {
 public:
  explicit DepthwiseConv2dNativeKernel(const KernelConstruction& c) : ConvKernel(c, true) {}
};

}  // namespace

void RegisterCpuConvKernels(KernelRegistry& registry) {
  registry.Register({"Conv2D", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<Conv2DKernel>()});
  registry.Register({"DepthwiseConv2dNative", kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<DepthwiseConv2dNativeKernel>()});
  RegisterCpuPoolKernels(registry);
  RegisterCpuNormalizationKernels(registry);
  RegisterCpuActivationKernels(registry);
}

}  // namespace weir
