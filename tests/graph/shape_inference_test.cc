// shape_inference_test.cc - Graph-level shape inference: shape tensors that are only partly
// known (TensorFlow's Pack/ConcatV2/StridedSlice of a Shape, as Keras and BERT-style graphs
// build them) give Reshape partial shapes, and all-zero int constants compressed to no values.
#include "graph/shape_inference.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "graph/convert.h"
#include "graph/graph_io.h"

namespace weir {
namespace {

std::string IntConst(const std::string& name, const std::string& shape,
                     const std::string& values) {
  return absl::StrCat("node { name: '", name,
                      "' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } } attr { key: "
                      "'value' value { tensor { dtype: DT_INT32 tensor_shape { ",
                      shape, " } ", values, " } } } }\n");
}

std::string Slice(const std::string& name, const std::string& in, const std::string& b,
                  const std::string& e, const std::string& s, int begin_mask, int shrink) {
  return absl::StrCat("node { name: '", name, "' op: 'StridedSlice' input: '", in, "' input: '",
                      b, "' input: '", e, "' input: '", s,
                      "' attr { key: 'T' value { type: DT_INT32 } } attr { key: 'Index' value { "
                      "type: DT_INT32 } } attr { key: 'begin_mask' value { i: ",
                      begin_mask, " } } attr { key: 'shrink_axis_mask' value { i: ", shrink,
                      " } } }\n");
}

const char kHeader[] =
    "node { name: 'x' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } attr { "
    "key: 'shape' value { shape { dim { size: -1 } dim { size: 16 } dim { size: 64 } } } } }\n"
    "node { name: 'shape' op: 'Shape' input: 'x' attr { key: 'T' value { type: DT_FLOAT } } }\n";

std::string ShapeAfter(const std::string& text, const std::string& node) {
  GraphDef def;
  absl::Status s = ParseGraphDef(text, /*text=*/true, &def);
  INFO(s.message());
  REQUIRE(s.ok());
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(def);
  INFO(graph.status().message());
  REQUIRE(graph.ok());
  return (*graph)->FindNode(node)->output_shape(0).ToString();
}

TEST_CASE("Reshape to Pack(shape[0], shape[1], 4, 16) keeps the known sizes", "[shape]") {
  std::string text = kHeader;
  // The begin of shape[0] is an int32 [1] Const with no values: zeros, as TensorFlow writes it.
  text += IntConst("zero", "dim { size: 1 }", "");
  text += IntConst("one", "dim { size: 1 }", "int_val: 1");
  text += IntConst("two", "dim { size: 1 }", "int_val: 2");
  text += IntConst("four", "", "int_val: 4");
  text += IntConst("sixteen", "", "int_val: 16");
  text += Slice("batch", "shape", "zero", "one", "one", 0, 1);
  text += Slice("seq", "shape", "one", "two", "one", 0, 1);
  text += "node { name: 'target' op: 'Pack' input: 'batch' input: 'seq' input: 'four' input: "
          "'sixteen' attr { key: 'T' value { type: DT_INT32 } } attr { key: 'N' value { i: 4 } "
          "} }\n";
  text += "node { name: 'y' op: 'Reshape' input: 'x' input: 'target' attr { key: 'T' value { "
          "type: DT_FLOAT } } }\n";
  CHECK(ShapeAfter(text, "batch") == "[]");
  CHECK(ShapeAfter(text, "y") == "[?,16,4,16]");
}

TEST_CASE("Reshape to ConcatV2(shape[:2], [64]) and to a Pack holding -1", "[shape]") {
  std::string text = kHeader;
  text += IntConst("zero", "dim { size: 1 }", "");
  text += IntConst("one", "dim { size: 1 }", "int_val: 1");
  text += IntConst("two", "dim { size: 1 }", "int_val: 2");
  text += IntConst("last", "dim { size: 1 }", "int_val: 64");
  text += IntConst("axis", "", "int_val: 0");
  text += IntConst("minus_one", "", "int_val: -1");
  text += Slice("prefix", "shape", "zero", "two", "one", 1, 0);
  text += "node { name: 'target' op: 'ConcatV2' input: 'prefix' input: 'last' input: 'axis' "
          "attr { key: 'T' value { type: DT_INT32 } } attr { key: 'N' value { i: 2 } } }\n";
  text += "node { name: 'y' op: 'Reshape' input: 'x' input: 'target' attr { key: 'T' value { "
          "type: DT_FLOAT } } }\n";
  text += Slice("batch", "shape", "zero", "one", "one", 0, 1);
  // Pack(batch, -1): the -1 is Reshape's wildcard, not an unknown size: only the rank is known.
  text += "node { name: 'wild' op: 'Pack' input: 'batch' input: 'minus_one' attr { key: 'T' "
          "value { type: DT_INT32 } } attr { key: 'N' value { i: 2 } } }\n";
  text += "node { name: 'z' op: 'Reshape' input: 'x' input: 'wild' attr { key: 'T' value { "
          "type: DT_FLOAT } } }\n";
  CHECK(ShapeAfter(text, "prefix") == "[2]");
  CHECK(ShapeAfter(text, "y") == "[?,16,64]");
  CHECK(ShapeAfter(text, "z") == "[?,?]");
}

TEST_CASE("an int Const with a shape and no values reads as zeros", "[shape]") {
  TensorProto proto;
  proto.set_dtype(DT_INT32);
  proto.mutable_tensor_shape()->add_dim()->set_size(3);
  std::optional<std::vector<int64_t>> v = TensorProtoAsInts(proto);
  REQUIRE(v.has_value());
  CHECK(*v == std::vector<int64_t>{0, 0, 0});
  proto.set_dtype(DT_INT64);
  v = TensorProtoAsInts(proto);
  REQUIRE(v.has_value());
  CHECK(*v == std::vector<int64_t>{0, 0, 0});
}

}  // namespace
}  // namespace weir
