// control_flow_ops.h - Recognizes TensorFlow 1.x control-flow ops by name. Old graphs use the
// Ref* forms (RefSwitch, RefMerge, RefEnter, RefExit, RefNextIteration), which mean the same
// as the plain ops, so every check that gives these ops their meaning (frames, deadness, back
// edges) goes through here.
#ifndef WEIR_GRAPH_OPS_CONTROL_FLOW_OPS_H_
#define WEIR_GRAPH_OPS_CONTROL_FLOW_OPS_H_

#include "absl/strings/string_view.h"

namespace weir {

inline bool IsSwitchOp(absl::string_view op) { return op == "Switch" || op == "RefSwitch"; }
inline bool IsMergeOp(absl::string_view op) { return op == "Merge" || op == "RefMerge"; }
inline bool IsEnterOp(absl::string_view op) { return op == "Enter" || op == "RefEnter"; }
inline bool IsExitOp(absl::string_view op) { return op == "Exit" || op == "RefExit"; }
inline bool IsNextIterationOp(absl::string_view op) {
  return op == "NextIteration" || op == "RefNextIteration";
}
inline bool IsLoopCondOp(absl::string_view op) { return op == "LoopCond"; }

}  // namespace weir

#endif  // WEIR_GRAPH_OPS_CONTROL_FLOW_OPS_H_
