// layout.h - Data-layout assignment: NCHW convolution chains on the CPU run in NHWC.
//
// Graphs exported from TensorFlow for GPUs carry data_format NCHW; Weir's oneDNN CPU kernels
// accept it, but are fastest in NHWC (channels innermost). This pass finds the maximal
// connected regions of NCHW tensors on the CPU (a node's requested or assigned device is CPU or
// empty) made of
//   - layout-sensitive nodes with data_format NCHW: Conv2D, DepthwiseConv2dNative,
//     _FusedConv2D/_FusedDepthwiseConv2dNative (per-channel args only), BiasAdd, inference
//     FusedBatchNorm{,V2,V3}, MaxPool, AvgPool;
//   - layout-agnostic nodes on 4-D tensors between them: unary elementwise ops, binary
//     elementwise ops whose other operands are 4-D too or hold one element, AddN;
//   - nodes whose constant operand can be permuted: Pad/PadV2/MirrorPad (Const paddings),
//     ConcatV2 (Const axis), Mean/Sum/Max/Min/Prod over Const axes (with keep_dims=false only
//     when the result's dimension order is the same in both layouts, e.g. the spatial Mean of a
//     global average pool, whose [N, C] result then leaves the region without a transpose),
// and rewrites each region that holds a convolution or pooling to NHWC: data_format becomes
// NHWC, strides/ksize/dilations/explicit_paddings and the constant operands are permuted, a
// Transpose(perm [0,2,3,1]) converts each tensor entering the region (a 4-D Const operand is
// transposed in place of a Transpose node) and a Transpose(perm [0,3,1,2]) restores NCHW for
// every use outside it. A kept node (fetch, target, read by a kept _Retval) keeps producing its
// NCHW tensor under its name: the NHWC node is renamed `<name>/nhwc` and the Transpose takes the
// name. A kept FusedBatchNorm (several outputs) stays out of its region.
//
// Transposes that cancel (the NCHW-to-NHWC Transpose of a region input that was itself a
// Transpose to NCHW, or the pair between two regions split by a node that is neither
// layout-sensitive nor agnostic) are left for the simplify pass, which removes
// Transpose(Transpose(x, p), q) when q∘p is the identity; the pipeline runs it after this pass.
#ifndef WEIR_COMPILER_PASSES_LAYOUT_H_
#define WEIR_COMPILER_PASSES_LAYOUT_H_

#include "compiler/pass.h"

namespace weir {

class LayoutPass : public Pass {
 public:
  std::string name() const override { return "layout"; }
  absl::StatusOr<bool> Run(Graph& graph, const PassContext& context) override;
};

}  // namespace weir

#endif  // WEIR_COMPILER_PASSES_LAYOUT_H_
