// window.h - The window geometry of convolutions and pooling, shared by the CPU kernels
// (kernels/cpu/) and the GPU kernels (kernels/gpu/ops/conv_ops.cc): a node's window attrs,
// their checks in the shape function's terms, and each spatial dimension's output size and
// padding under TensorFlow's SAME / VALID / EXPLICIT rules.
#ifndef WEIR_KERNELS_WINDOW_H_
#define WEIR_KERNELS_WINDOW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/kernel.h"

namespace weir {

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

#endif  // WEIR_KERNELS_WINDOW_H_
