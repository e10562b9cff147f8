// shape_inference.h - Output shapes of nodes from their inputs' shapes, dtypes, attrs and,
// where known while building the graph, their inputs' values.
#ifndef WEIR_GRAPH_SHAPE_INFERENCE_H_
#define WEIR_GRAPH_SHAPE_INFERENCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "graph/shape.h"
#include "proto/tensor.pb.h"

namespace weir {

// What a shape function sees. Errors it returns describe the problem only ("input 1 has shape
// [64,10], expected [?,784]"); the caller prefixes the node and op.
class ShapeContext {
 public:
  ShapeContext(const AttrMap* attrs, std::vector<PartialShape> input_shapes,
               std::vector<DataType> input_types, std::vector<const TensorProto*> input_values,
               std::vector<DataType> output_types);

  int num_inputs() const { return static_cast<int>(input_shapes_.size()); }
  const PartialShape& input(int i) const { return input_shapes_[i]; }
  DataType input_type(int i) const { return input_types_[i]; }
  // The value of input i when known at build time (a Const, or a Shape of a fully known
  // shape); nullptr otherwise.
  const TensorProto* input_value(int i) const { return input_values_[i]; }
  // For a resource input i: the shape of the variable the handle names (VarHandleOp's `shape`
  // attr); unknown when the handle's producer is not known.
  PartialShape input_handle_shape(int i) const {
    return i < static_cast<int>(input_handle_shapes_.size()) ? input_handle_shapes_[i]
                                                             : PartialShape();
  }
  void set_input_handle_shapes(std::vector<PartialShape> shapes) {
    input_handle_shapes_ = std::move(shapes);
  }
  // Input i's value as integers (int32 or int64 tensor); nullopt when not known statically.
  std::optional<std::vector<int64_t>> InputAsInts(int i) const;
  // A 1-D integer input whose length is known and some elements are (TensorFlow's shape
  // tensors: Pack of Shape slices and constants, Concat of them): its elements with
  // PartialShape::kUnknownDim for the unknown ones; nullopt when nothing is known. Elements
  // are never negative (a graph whose constant parts hold -1 gets no partial value).
  std::optional<std::vector<int64_t>> InputAsPartialInts(int i) const {
    if (i < static_cast<int>(input_partial_values_.size()) && input_partial_values_[i]) {
      return input_partial_values_[i];
    }
    return std::nullopt;
  }
  void set_input_partial_values(std::vector<std::optional<std::vector<int64_t>>> values) {
    input_partial_values_ = std::move(values);
  }

  const AttrMap& attrs() const { return *attrs_; }
  template <typename T>
  absl::Status GetAttr(absl::string_view name, T* value) const {
    return weir::GetAttr(*attrs_, name, value);
  }

  int num_outputs() const { return static_cast<int>(output_shapes_.size()); }
  DataType output_type(int i) const { return output_types_[i]; }
  void set_output(int i, PartialShape shape) { output_shapes_[i] = std::move(shape); }
  const std::vector<PartialShape>& outputs() const { return output_shapes_; }

  // Common checks, with messages in the house style.
  // Fails "input 0 has rank 3, expected rank 2" unless input i has (or may have) rank `rank`.
  absl::Status WithRank(int i, int rank) const;
  absl::Status WithRankAtLeast(int i, int rank) const;

 private:
  const AttrMap* attrs_;
  std::vector<PartialShape> input_shapes_;
  std::vector<DataType> input_types_;
  std::vector<const TensorProto*> input_values_;
  std::vector<PartialShape> input_handle_shapes_;
  std::vector<std::optional<std::vector<int64_t>>> input_partial_values_;
  std::vector<DataType> output_types_;
  std::vector<PartialShape> output_shapes_;
};

// Reads a TensorProto holding int32 or int64 values (tensor_content or typed fields, with
// TensorFlow's "last value repeats" rule). nullopt for other dtypes or malformed protos.
std::optional<std::vector<int64_t>> TensorProtoAsInts(const TensorProto& proto);

// Infers the output shapes of one node whose inputs are connected and whose producers'
// shapes are known. Errors name the node and op. `values` supplies statically known
// input values (may be null).
class ShapeRefiner {
 public:
  ShapeRefiner() = default;
  // Infers and stores node->output_shapes. Also remembers the node's value if it is a Const
  // or a Shape of a fully known shape, for consumers such as Reshape.
  absl::Status InferNode(Node* node);
  // The statically known value of node:index, or nullptr.
  const TensorProto* KnownValue(const Node* node, int index) const;
  // What is known of an integer scalar or vector node:index that is not fully known: its
  // elements, PartialShape::kUnknownDim where unknown (see ShapeContext::InputAsPartialInts).
  struct PartialValue {
    std::vector<int64_t> elements;
    bool scalar = false;
  };
  const PartialValue* KnownPartialValue(const Node* node, int index) const;

 private:
  // Nodes inferred so far: a Merge ignores a back edge (from NextIteration) whose source is
  // not among them yet.
  absl::flat_hash_set<int> inferred_;
  std::vector<std::unique_ptr<TensorProto>> owned_;
  absl::flat_hash_map<std::pair<int, int>, const TensorProto*> values_;
  absl::flat_hash_map<std::pair<int, int>, PartialValue> partial_values_;
  // Records node:0's partial value from its inputs' known and partial values.
  void RecordPartialValue(const Node* node, const ShapeContext& ctx);
};

// Runs shape inference over `order` (a topological order that skips loop back edges). A graph
// with loops is inferred again until no shape changes, so each loop Merge ends up with the
// merge of its entry and back-edge shapes.
absl::Status InferShapesInOrder(const std::vector<Node*>& order);

// Runs shape inference over the whole graph in topological order.
absl::Status InferShapes(Graph& graph);

}  // namespace weir

#endif  // WEIR_GRAPH_SHAPE_INFERENCE_H_
