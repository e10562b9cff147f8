// rewrite.h - Small graph-editing steps that several passes share: redirecting the users of a
// tensor, forwarding a node's input to its users, building Const nodes, reading constants.
//
// Every helper keeps the graph valid (each data input connected once, dtypes agreeing) and
// preserves control dependencies: a node removed from the middle of the graph hands its control
// inputs to everything that depended on it.
#ifndef WEIR_COMPILER_REWRITE_H_
#define WEIR_COMPILER_REWRITE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "compiler/pass.h"
#include "graph/graph.h"
#include "runtime/tensor.h"

namespace weir {

// The nodes a pass must not remove or rename: PassContext::keep_nodes and, as in TensorFlow's
// "nodes to preserve", the nodes a kept _Retval fetches (a fetched node stays what it is, so a
// trace or error still names it).
class KeepSet {
 public:
  KeepSet(const Graph& graph, const PassContext& context);
  bool contains(const Node* node) const { return names_.contains(node->name()); }

 private:
  absl::flat_hash_set<std::string> names_;
};

// Moves every data edge reading from:from_output to read to:to_output instead.
absl::Status RedirectOutput(Graph& graph, Node* from, int from_output, Node* to, int to_output);

// Replaces `node` (single data output) by the tensor feeding its input `input`: data users read
// that tensor, control users and data users inherit node's control inputs, control users of
// node depend on the producer instead. Removes `node`.
absl::Status ForwardInput(Graph& graph, Node* node, int input);

// Same as ForwardInput but the users read src:src_output (which must have node's dtype).
absl::Status ReplaceNodeWith(Graph& graph, Node* node, Node* src, int src_output);

// Adds a Const node holding `value`, with its shape set, on `device`.
absl::StatusOr<Node*> AddConstNode(Graph& graph, const std::string& name, const Tensor& value,
                                   const std::string& device);

// A name not used in the graph, starting with `base`.
std::string UniqueNodeName(const Graph& graph, const std::string& base);

// The value of a Const node's output (nullopt for other ops or undecodable values).
std::optional<Tensor> ConstValue(const Node* node);
// The value feeding input `input` of `node` when its producer is a Const.
std::optional<Tensor> InputConstValue(const Node* node, int input);
// The producer of input `input`; nullptr when unconnected.
Node* InputNode(const Node* node, int input);
// The shape inference gave input `i`'s producer for that output.
const PartialShape& InputShape(const Node& node, int i);
// The value of a Const feeding input `i` whose producer carries no control inputs (so
// replacing the edge by the value loses no dependency); nullopt otherwise.
std::optional<Tensor> CleanConstInput(const Node& node, int i);
bool HasControlInputs(const Node* node);

// Whether every element of a numeric tensor equals `value`.
bool AllElementsEqual(const Tensor& t, double value);
// Whether the node's "T" attr is float32.
bool IsFloat32(const Node& node);
// A string attr of the node, or `fallback` when it has none.
std::string StringAttr(const Node& node, const char* name, const char* fallback);
// Whether a device string names the CPU or nothing (an unparsable one counts as not CPU).
bool IsCpuDevice(const std::string& device);

}  // namespace weir

#endif  // WEIR_COMPILER_REWRITE_H_
