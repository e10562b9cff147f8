// window.cc - Window attrs and geometry of convolutions and pooling (window.h).
#include "kernels/window.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weir {
namespace conv_internal {

Layout LayoutFor(const std::string& data_format) {
  if (data_format == "NCHW") return {0, 2, 3, 1, true};
  return {0, 1, 2, 3, false};
}

WindowAttrs ReadWindowAttrs(const KernelConstruction& c) {
  WindowAttrs attrs;
  c.GetAttr("strides", &attrs.strides).IgnoreError();
  c.GetAttr("dilations", &attrs.dilations).IgnoreError();
  c.GetAttr("ksize", &attrs.ksize).IgnoreError();
  c.GetAttr("padding", &attrs.padding).IgnoreError();
  c.GetAttr("explicit_paddings", &attrs.explicit_paddings).IgnoreError();
  std::string data_format = "NHWC";
  c.GetAttr("data_format", &data_format).IgnoreError();
  attrs.layout = LayoutFor(data_format);
  return attrs;
}

absl::Status CheckWindowAttrs(const WindowAttrs& attrs, bool pooling) {
  auto check4 = [](const std::vector<int64_t>& v, const char* name) -> absl::Status {
    if (v.size() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " has ", v.size(), " entries, expected 4"));
    }
    for (int64_t x : v) {
      if (x < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, " is [", absl::StrJoin(v, ","), "], expected all entries >= 1"));
      }
    }
    return absl::OkStatus();
  };
  if (auto s = check4(attrs.strides, "strides"); !s.ok()) return s;
  if (auto s = check4(attrs.dilations, "dilations"); !s.ok()) return s;
  if (pooling) {
    if (auto s = check4(attrs.ksize, "ksize"); !s.ok()) return s;
  }
  if (attrs.padding == "EXPLICIT" && attrs.explicit_paddings.size() != 8) {
    return absl::InvalidArgumentError(absl::StrCat("explicit_paddings has ",
                                                   attrs.explicit_paddings.size(),
                                                   " entries, expected 8 for padding EXPLICIT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SpatialGeometry> ComputeSpatial(const WindowAttrs& attrs, int dim, int64_t in,
                                               int64_t k, int64_t dilation) {
  const int64_t stride = attrs.strides[dim];
  const int64_t effective_k = (k - 1) * dilation + 1;
  SpatialGeometry g;
  if (attrs.padding == "VALID") {
    g.out = (in - effective_k + stride) / stride;
  } else if (attrs.padding == "SAME") {
    g.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((g.out - 1) * stride + effective_k - in, 0);
    g.pad_before = total / 2;
    g.pad_after = total - g.pad_before;
  } else {
    g.pad_before = attrs.explicit_paddings[2 * dim];
    g.pad_after = attrs.explicit_paddings[2 * dim + 1];
    if (g.pad_before < 0 || g.pad_after < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("explicit_paddings is [", absl::StrJoin(attrs.explicit_paddings, ","),
                       "], expected non-negative entries"));
    }
    g.out = (in + g.pad_before + g.pad_after - effective_k + stride) / stride;
  }
  if (g.out < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "computed output size would be negative: ", g.out, " (input size ", in,
        ", effective window size ", effective_k, ", stride ", stride, ")"));
  }
  return g;
}

}  // namespace conv_internal
}  // namespace weir
