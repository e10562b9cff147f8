// conv_kernels.h - Shared pieces of the convolution-family CPU kernels (conv_kernels.cc,
// fused_kernels.cc, conv_grad_kernels.cc, pool_kernels.cc, normalization_kernels.cc,
// activation_kernels.cc): window attrs and geometry with TensorFlow's padding rules, and the
// per-file registration functions that RegisterCpuConvKernels calls. Their oneDNN descriptors
// are in onednn_conv.h.
#ifndef WEIR_KERNELS_CPU_CONV_KERNELS_H_
#define WEIR_KERNELS_CPU_CONV_KERNELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace weir {

void RegisterCpuPoolKernels(KernelRegistry& registry);           // pool_kernels.cc
void RegisterCpuNormalizationKernels(KernelRegistry& registry);  // normalization_kernels.cc
void RegisterCpuActivationKernels(KernelRegistry& registry);     // activation_kernels.cc

namespace conv_internal {

// Positions of the batch, height, width and channel dimensions of a 4-D tensor.
struct Layout {
  int n, h, w, c;
  bool nchw;
};
Layout LayoutFor(const std::string& data_format);

// The window attrs of a Conv2D-like or pooling node: strides, dilations, padding and, for
// EXPLICIT padding, explicit_paddings; all in the node's data_format order.
struct WindowAttrs {
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations{1, 1, 1, 1};
  std::vector<int64_t> ksize;  // pooling only
  std::string padding;
  std::vector<int64_t> explicit_paddings;
  Layout layout{0, 1, 2, 3, false};
};
// Reads the attrs that exist on the node (missing optional ones keep their defaults).
WindowAttrs ReadWindowAttrs(const KernelConstruction& c);
// Checks the attrs' sizes and values in the same terms as the shape function.
absl::Status CheckWindowAttrs(const WindowAttrs& attrs, bool pooling);

// Output size and padding of one spatial dimension under TensorFlow's rules.
struct SpatialGeometry {
  int64_t out = 0;
  int64_t pad_before = 0;
  int64_t pad_after = 0;
};
// `dim` is the position of the dimension in the data_format (for explicit_paddings).
absl::StatusOr<SpatialGeometry> ComputeSpatial(const WindowAttrs& attrs, int dim, int64_t in,
                                               int64_t k, int64_t dilation);

}  // namespace conv_internal
}  // namespace weir

#endif  // WEIR_KERNELS_CPU_CONV_KERNELS_H_
