// onednn_conv.h - The oneDNN setup that the convolution and pooling CPU kernels share
// (conv_kernels.cc, fused_kernels.cc, conv_grad_kernels.cc, pool_kernels.cc): memory
// descriptors for data in the node's layout and for TensorFlow's filter layout, a filter in the
// primitive's preferred layout (reordered once when it is a Const), the forward convolution
// that Conv2D and _FusedConv2D both run, and pooling windows.
#ifndef WEIR_KERNELS_CPU_ONEDNN_CONV_H_
#define WEIR_KERNELS_CPU_ONEDNN_CONV_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/onednn_primitive.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"

namespace weir {
namespace conv_internal {

// ---- Shapes and descriptors ------------------------------------------------------------------

// A 4-D data tensor in the node's layout as oneDNN's logical (N, C, H, W), tagged nhwc or nchw.
dnnl::memory::desc DataDesc(const Layout& layout, int64_t n, int64_t c, int64_t h, int64_t w);
// The dimensions of a 4-D data tensor in the node's layout.
std::vector<int64_t> DataDims(const Layout& layout, int64_t n, int64_t h, int64_t w, int64_t c);

// A 2-D convolution in oneDNN's terms: `groups` groups of `group_in` input and `group_out`
// output channels (Conv2D: one group unless the filter is shallower than the input; depthwise:
// one group per input channel), and the spatial geometry under the node's padding.
struct ConvShape {
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t kh = 0, kw = 0;
  int64_t groups = 1, group_out = 0, group_in = 0;
  SpatialGeometry h, w;
  int64_t out_c() const { return groups * group_out; }
};
// The shape of a Conv2D (depthwise: DepthwiseConv2dNative) of `input` with `filter`, spatial
// geometry left to ComputeConvGeometry. Checks the ranks and that the channel counts fit
// (errors name input 0 and input 1 (filter)).
absl::StatusOr<ConvShape> ForwardConvShape(const Layout& layout, const Tensor& input,
                                           const Tensor& filter, bool depthwise);
// Fills `shape`'s spatial geometry from its other fields (ComputeSpatial with the node's
// dilations); an invalid padding or a negative output size is an error.
absl::Status ComputeConvGeometry(const WindowAttrs& attrs, ConvShape& shape);

// The descriptors of a convolution. The filter is TensorFlow's HWIO (HWCM for depthwise),
// described to oneDNN through strides as (grouped) weights, so no transpose is made by hand.
struct ConvDescs {
  dnnl::memory::desc src, dst;
  dnnl::memory::desc user_weights;  // the filter as TensorFlow lays it out
  dnnl::memory::desc any_weights;   // the same dims in format "any": the primitive picks
  dnnl::memory::dims strides, dilates, pad_l, pad_r;
};
ConvDescs DescribeConv(const WindowAttrs& attrs, const ConvShape& shape);  // throws dnnl::error

// The cache key of a convolution kernel: input N, H, W, C (data format order resolved), the
// filter's four dims and the team size.
using ConvKey = std::array<int64_t, 9>;
// "<what> for input (N,H,W,C) [...] and filter [...]", for creation errors.
std::string DescribeConvKey(absl::string_view what, const ConvKey& key);

// ---- The filter in the primitive's layout ----------------------------------------------------

// A filter the primitive wants in its own (blocked) layout: the reorder from TensorFlow's
// layout, and for a Const filter a copy already in the primitive's layout, made once.
struct ConvWeights {
  dnnl::memory::desc user, primitive;
  dnnl::reorder reorder;  // user -> primitive; empty when the layouts are the same
  // The Const filter in `primitive` layout (shared by copies of a cache entry).
  std::shared_ptr<const std::vector<float>> const_copy;

  bool reordered() const { return user != primitive; }
  // Bytes of per-call scratch that Bind needs: the size of a reordered filter, or 0 when the
  // filter is used as it is or the Const copy is.
  size_t CallBytes() const {
    return reordered() && const_copy == nullptr ? primitive.get_size() : 0;
  }
  // The memory to pass as DNNL_ARG_WEIGHTS: the Const copy, `filter` reordered into `scratch`
  // (CallBytes() bytes) on `stream`, or `filter` itself.
  dnnl::memory Bind(dnnl::stream& stream, const void* filter, void* scratch) const;
};
// The filter layouts of a primitive whose weights descriptor is `primitive`. `const_filter` is
// the filter's data when it comes from a Const node (else null): it is reordered now, once.
ConvWeights MakeConvWeights(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive,
                            const void* const_filter);  // throws dnnl::error

// ---- Forward convolution (Conv2D, DepthwiseConv2dNative and their fused forms) ---------------

struct ForwardConv {
  dnnl::convolution_forward conv;
  dnnl::memory::desc src, dst, bias, scratchpad;  // bias: empty without one
  ConvWeights weights;
};
// An inference convolution with a bias argument when `with_bias`, under `attr` (which must ask
// for a user scratchpad). `const_filter` as for MakeConvWeights.
ForwardConv CreateForwardConv(const WindowAttrs& attrs, const ConvShape& shape, bool with_bias,
                              const dnnl::primitive_attr& attr,
                              const void* const_filter);  // throws dnnl::error
// output = conv(input, filter) (+ bias when given). Errors read "<what> failed: ...".
absl::Status RunForwardConv(KernelContext* ctx, const ForwardConv& p, const Tensor& input,
                            const Tensor& filter, const Tensor* bias, Tensor& output,
                            absl::string_view what);

// ---- Pooling -----------------------------------------------------------------------------------

// CheckWindowAttrs for pooling, and windows only over the spatial dimensions.
absl::Status CheckPoolWindow(const WindowAttrs& attrs);
// The spatial geometry of a pooling window over an in_h x in_w input; paddings as large as the
// window are an error.
absl::StatusOr<std::pair<SpatialGeometry, SpatialGeometry>> ComputePoolGeometry(
    const WindowAttrs& attrs, int64_t in_h, int64_t in_w);

struct PoolDescs {
  dnnl::memory::desc src, dst;
  dnnl::memory::dims strides, kernel, pad_l, pad_r;
};
// The pooling cache key: input batch, height, width, channels and the team size.
using PoolKey = std::array<int64_t, 5>;
PoolDescs DescribePool(const WindowAttrs& attrs, const PoolKey& key, const SpatialGeometry& gh,
                       const SpatialGeometry& gw);  // throws dnnl::error
// "<what> for input [N,H,W,C]", for creation errors.
std::string DescribePoolKey(absl::string_view what, const PoolKey& key);

}  // namespace conv_internal
}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ONEDNN_CONV_H_
