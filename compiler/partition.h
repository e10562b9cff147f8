// partition.h - Splits a placed graph into one graph per device, with a _Send/_Recv pair on
// every edge that crosses devices (TensorFlow's graph partitioning).
//
// Rules:
//  - Every node goes to the partition of its assigned device, keeping its name, attrs, shapes
//    and both devices (requested and assigned).
//  - A data edge src:i -> dst crossing from device A to device B becomes
//      src:i -> _Send (on A)   and   _Recv (on B) -> dst,
//    one pair per (tensor, destination device): several consumers on B share one _Recv.
//  - A control edge src -> ^dst crossing devices keeps its ordering through a pair carrying a
//    dummy scalar: src -> ^Const (on A) -> _Send, _Recv (on B) -> ^dst; one per (src, B).
//  - The pair's attrs are TensorFlow's: T / tensor_type, tensor_name, send_device, recv_device,
//    send_device_incarnation, client_terminated (false). The runtime (runtime/rendezvous.h)
//    pairs them by send_device, incarnation, recv_device and tensor_name.
// A graph on one device gives one partition equal to the input (a clone, nothing added).
// Graphs with control flow (Switch, Merge, loops) crossing devices are refused: a dead tensor
// would have to travel through the pair, which the executor does not do yet.
#ifndef WEIR_COMPILER_PARTITION_H_
#define WEIR_COMPILER_PARTITION_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace weir {

struct GraphPartition {
  std::string device;  // the assigned device name, e.g. "/device:CPU:1"
  std::unique_ptr<Graph> graph;
};

// One partition per device that holds a node, in the order devices first appear in node-id
// order. Every node must have an assigned device (InvalidArgument naming the node otherwise).
absl::StatusOr<std::vector<GraphPartition>> PartitionGraph(const Graph& graph);

// Whether the graph's nodes use more than one assigned device.
bool IsMultiDevice(const Graph& graph);

}  // namespace weir

#endif  // WEIR_COMPILER_PARTITION_H_
