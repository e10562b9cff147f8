// pad_fold.h - Folds an explicit zero Pad into the convolution that reads it.
//
// Keras writes ZeroPadding2D before convolutions (MobileNetV2 before each stride-2 depthwise
// convolution, ResNet before its first convolution); TensorFlow imports it as Pad/PadV2 feeding
// a VALID convolution, and running it is a full copy of the activation (4 Pads were ~130 us of
// a ~1,100 us MobileNetV2 batch-1 step; folding them took the step, 1 thread, from a median
// of ~1,010 to ~750 us on a noisy shared 2-core machine). Like TensorFlow's remapper and ONNX
// Runtime's PadFusion, this pass lets the convolution pad instead:
//
//   Conv(Pad(x, Const p), W)  ->  Conv(x, W) with the spatial rows of p added to its padding
//
// for Conv2D, DepthwiseConv2dNative, _FusedConv2D and _FusedDepthwiseConv2dNative, float32, on
// the CPU, when
//   - the pad is Pad, or PadV2 whose constant_values is a Const 0 (never MirrorPad);
//   - p is a Const int32/int64 [4,2], non-negative, zero on the batch and channel dimensions
//     of the convolution's data_format;
//   - the convolution's padding is VALID or EXPLICIT (SAME pads by an amount that depends on
//     the input shape, so the sum has no fixed value: left alone).
// The result is written in the plainest padding that means the same: VALID when the sum is
// zero, SAME when the input's spatial shape is known and SAME pads exactly that much (Keras's
// ZeroPadding2D(correct_pad) before MobileNetV2's stride-2 convolutions is exactly that, and
// _FusedDepthwiseConv2dNative, like TensorFlow's, has no EXPLICIT padding), EXPLICIT
// otherwise. A DepthwiseConv2dNative that would need EXPLICIT is left alone when its only user
// is a BiasAdd, batch norm or Mul/Add/Sub, which fusion would otherwise absorb into a
// _FusedDepthwiseConv2dNative (not measured: it keeps what the pipeline did before this pass).
//
// The convolution keeps its name (it may be fetched) and inherits the Pad's control inputs.
// The Pad is not removed here: when nothing else reads it and it is not kept, dead-node
// elimination removes it. Pooling is never folded: AvgPool's divisor counts only real
// elements, and MaxPool over zero padding differs from MaxPool's own padding (which never
// wins) whenever inputs can be negative.
#ifndef WEIR_COMPILER_PASSES_PAD_FOLD_H_
#define WEIR_COMPILER_PASSES_PAD_FOLD_H_

#include "compiler/pass.h"

namespace weir {

class PadFoldPass : public Pass {
 public:
  std::string name() const override { return "pad-fold"; }
  absl::StatusOr<bool> Run(Graph& graph, const PassContext& context) override;
};

}  // namespace weir

#endif  // WEIR_COMPILER_PASSES_PAD_FOLD_H_
