// pad_fold.cc - Zero Pad/PadV2 -> convolution becomes the convolution with that padding.
#include "compiler/passes/pad_fold.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "compiler/placement.h"
#include "compiler/rewrite.h"
#include "graph/attr.h"
#include "graph/types.h"

namespace weir {
namespace {

bool IsConv(const std::string& op) {
  return op == "Conv2D" || op == "DepthwiseConv2dNative" || op == "_FusedConv2D" ||
         op == "_FusedDepthwiseConv2dNative";
}

// A Const int32/int64 [4,2] paddings tensor as 8 values, or nullopt.
std::optional<std::array<int64_t, 8>> ConstPaddings(const Node& pad) {
  std::optional<Tensor> t = CleanConstInput(pad, 1);
  if (!t || t->rank() != 2 || t->dim(0) != 4 || t->dim(1) != 2) return std::nullopt;
  std::array<int64_t, 8> out;
  for (int i = 0; i < 8; ++i) {
    if (t->dtype() == DT_INT32) {
      out[i] = t->flat<int32_t>()[i];
    } else if (t->dtype() == DT_INT64) {
      out[i] = t->flat<int64_t>()[i];
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Whether `pad` pads with zeros: Pad, or PadV2 with a Const 0 constant_values.
bool PadsWithZero(const Node& pad) {
  if (pad.op() == "Pad") return true;
  if (pad.op() != "PadV2") return false;
  std::optional<Tensor> value = CleanConstInput(pad, 2);
  return value && value->dtype() == DT_FLOAT && value->rank() == 0 &&
         AllElementsEqual(*value, 0.0);
}

// Whether SAME padding pads spatial dimension `dim` (its index in the data_format) by exactly
// `before` and `after`, TensorFlow's rule, for input size `in` and filter size `k` (-1 when
// unknown).
bool SameGives(const Node& conv, int dim, int64_t in, int64_t k, int64_t before, int64_t after) {
  if (in < 0 || k < 0) return false;
  std::vector<int64_t> strides, dilations = {1, 1, 1, 1};
  if (!conv.GetAttr("strides", &strides).ok() || strides.size() != 4) return false;
  conv.GetAttr("dilations", &dilations).IgnoreError();
  if (dilations.size() != 4 || strides[dim] <= 0 || dilations[dim] <= 0) return false;
  const int64_t stride = strides[dim];
  const int64_t effective_k = (k - 1) * dilations[dim] + 1;
  const int64_t out = (in + stride - 1) / stride;
  const int64_t needed = std::max<int64_t>((out - 1) * stride + effective_k - in, 0);
  return before == needed / 2 && after == needed - needed / 2;
}

// Whether fusion would absorb `conv`'s only user into a _Fused* op (which, for depthwise
// convolutions, cannot express EXPLICIT padding).
bool FeedsFusion(const Node& conv) {
  if (conv.out_edges().size() != 1 || conv.out_edges()[0]->IsControl()) return false;
  const std::string& op = conv.out_edges()[0]->dst->op();
  return op == "BiasAdd" || op == "FusedBatchNorm" || op == "FusedBatchNormV2" ||
         op == "FusedBatchNormV3" || op == "Mul" || op == "Add" || op == "AddV2" || op == "Sub";
}

// Folds the Pad feeding `conv` into it when the header's conditions hold; whether it did. The
// convolution is edited in place (name, op and users unchanged), so kept nodes need no care
// here: a kept Pad keeps its user and dead-node elimination leaves it.
absl::StatusOr<bool> FoldPadInto(Graph& graph, Node* conv) {
  const std::string& op = conv->op();
  // CPU only: the CPU convolution kernels take any explicit padding, a GPU one may not.
  if (!IsConv(op) || !IsFloat32(*conv) || !IsCpuDevice(conv->requested_device())) {
    return false;
  }
  const std::string padding = StringAttr(*conv, "padding", "");
  if (padding != "VALID" && padding != "EXPLICIT") return false;
  const std::string data_format = StringAttr(*conv, "data_format", "NHWC");
  if (data_format != "NHWC" && data_format != "NCHW") return false;
  if (StringAttr(*conv, "filter_format", "HWIO") != "HWIO") return false;
  const Edge* in = conv->input_edge(0);
  if (in == nullptr || in->src_output != 0) return false;
  Node* pad = in->src;
  if (!PadsWithZero(*pad) || !IsFloat32(*pad)) return false;
  std::optional<std::array<int64_t, 8>> pads = ConstPaddings(*pad);
  if (!pads) return false;
  const bool nchw = data_format == "NCHW";
  const int n = 0, c = nchw ? 1 : 3, h = nchw ? 2 : 1, w = nchw ? 3 : 2;
  for (int64_t p : *pads) {
    if (p < 0) return false;
  }
  if ((*pads)[2 * n] != 0 || (*pads)[2 * n + 1] != 0 || (*pads)[2 * c] != 0 ||
      (*pads)[2 * c + 1] != 0) {
    return false;
  }
  std::array<int64_t, 8> total = *pads;
  if (padding == "EXPLICIT") {
    std::vector<int64_t> existing;
    if (!conv->GetAttr("explicit_paddings", &existing).ok() || existing.size() != 8) {
      return false;
    }
    for (int i = 0; i < 8; ++i) total[i] += existing[i];
  }

  // The plainest padding meaning `total`.
  bool all_zero = true;
  for (int64_t p : total) all_zero = all_zero && p == 0;
  const PartialShape& x = InputShape(*pad, 0);
  const PartialShape& filter = InputShape(*conv, 1);
  auto dim_of = [](const PartialShape& s, int i) -> int64_t {
    return s.known_rank() && s.rank() == 4 ? s.dim(i) : -1;
  };
  std::string new_padding = "EXPLICIT";
  if (all_zero) {
    new_padding = "VALID";
  } else if (SameGives(*conv, h, dim_of(x, h), dim_of(filter, 0), total[2 * h],
                       total[2 * h + 1]) &&
             SameGives(*conv, w, dim_of(x, w), dim_of(filter, 1), total[2 * w],
                       total[2 * w + 1])) {
    new_padding = "SAME";
  }
  if (new_padding == "EXPLICIT") {
    // TensorFlow's fused depthwise op has no EXPLICIT padding.
    if (op == "_FusedDepthwiseConv2dNative") return false;
    if (op == "DepthwiseConv2dNative" && FeedsFusion(*conv)) return false;
  }

  // Rewire: the convolution reads the Pad's input and inherits its control inputs.
  Node* src = InputNode(pad, 0);
  const int src_output = pad->input_edge(0)->src_output;
  std::vector<Node*> control_inputs;
  for (const Edge* e : pad->in_edges()) {
    if (e->IsControl()) control_inputs.push_back(e->src);
  }
  graph.RemoveEdge(const_cast<Edge*>(in));
  if (auto e = graph.AddEdge(src, src_output, conv, 0); !e.ok()) return e.status();
  for (Node* control : control_inputs) graph.AddControlEdge(control, conv);

  AttrMap& attrs = *conv->mutable_attrs();
  attrs["padding"] = MakeAttr(new_padding);
  if (new_padding == "EXPLICIT") {
    attrs["explicit_paddings"] = MakeAttr(std::vector<int64_t>(total.begin(), total.end()));
  } else if (attrs.count("explicit_paddings") != 0) {
    attrs["explicit_paddings"] = MakeAttr(std::vector<int64_t>{});
  }
  return true;
}

}  // namespace

absl::StatusOr<bool> PadFoldPass::Run(Graph& graph, const PassContext& /*context*/) {
  bool changed = false;
  for (Node* node : graph.nodes()) {
    absl::StatusOr<bool> folded = FoldPadInto(graph, node);
    if (!folded.ok()) return folded.status();
    changed |= *folded;
  }
  return changed;
}

}  // namespace weir
