// placement.h - Assigns every node a device.
//
// Rules, in order:
//  0. A graph with TF1 control flow (Switch, Merge, Enter, Exit, NextIteration, LoopCond) runs
//     entirely on one device, since control flow cannot cross devices yet (partition.h): the
//     device all explicit requests name when they agree and it has every node's kernel (a
//     graph pinned to /cpu:1), else the first CPU device. A node that asks for another device
//     is an error naming it and the control-flow node, unless soft placement is on. So a
//     model with a TF1 cond left in it (a Keras learning-phase switch that pruning keeps) runs
//     on the CPU even when a GPU is present; the placement log shows it.
//  1. Colocation groups (a node's `_class` attr "loc:@other", TensorFlow's colocate_with) are
//     placed together; explicit requests inside a group must agree.
//  2. An explicit request (TensorFlow device string, partial ones like "/device:GPU:*" or
//     "/cpu:0") picks the first matching device that has a kernel for every node of the group.
//  3. Without a request: the first device (the caller lists the preferred one first, the GPU
//     when present) with kernels for the whole group, else the CPU.
//  4. Then a node without data inputs (a Const), without a request or colocation, whose data
//     consumers all landed on one other device moves to that device when it has the kernel.
//  5. A node without a request or colocation whose outputs are scalars and whose data inputs
//     (other than sources rule 4 may still move) and consumers all run on one CPU device moves
//     to that CPU, and rule 4 runs again for the sources it read (Adam's beta-power update and
//     its beta Const stay next to the variables).
// A request no device satisfies is an error naming the node and the device it asked for,
// unless soft placement is on, which falls back to rule 3 (the default: no GPU present means
// CPU only, with no error). Copies at device boundaries: partition.h.
#ifndef WEIR_COMPILER_PLACEMENT_H_
#define WEIR_COMPILER_PLACEMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "runtime/device.h"
#include "runtime/kernel_registry.h"

namespace weir {

// A parsed TensorFlow device string: "/job:x/replica:0/task:0/device:GPU:1", "/cpu:0",
// "/device:GPU:*", "GPU:0". Empty type or index -1 mean "any".
struct DeviceSpec {
  std::string type;
  int index = -1;
};
absl::StatusOr<DeviceSpec> ParseDeviceName(const std::string& name);

struct PlacementOptions {
  // Fall back to another device when the requested one is missing or lacks a kernel.
  bool allow_soft_placement = true;
};

// Sets every node's assigned device. `devices` lists the candidates in order of preference.
absl::Status PlaceNodes(Graph& graph, const std::vector<Device*>& devices,
                        const KernelRegistry& registry, const PlacementOptions& options = {});

}  // namespace weir

#endif  // WEIR_COMPILER_PLACEMENT_H_
