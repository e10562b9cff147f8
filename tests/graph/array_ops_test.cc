// array_ops_test.cc - Shape functions of the array and nn ops (graph/ops/array_ops.cc,
// graph/ops/nn_ops.cc): static values, partial shapes and errors.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graph/graph.h"
#include "graph/shape_inference.h"
#include "tests/shape_test_util.h"

namespace weir {
namespace {

using Catch::Contains;
using testing::Attrs;
using testing::In;
using testing::Infer;
using testing::Mat;
using testing::Out;
using testing::Ph;
using testing::Scalar;
using testing::ShapeOf;
using testing::Vec;

const Attrs kFloat = {{"T", MakeAttr(DT_FLOAT)}};

TEST_CASE("Reshape uses a constant target and infers one -1", "[shape][array]") {
  CHECK(Out("Reshape", {Ph({2, 6}), Vec({3, -1})}, kFloat) == "[3,4]");
  CHECK(Out("Reshape", {Ph({2, 6}), Vec({12})}, kFloat) == "[12]");
  CHECK(Out("Reshape", {Ph({1, 1}), Vec({})}, kFloat) == "[]");
  Attrs int64_shape = {{"T", MakeAttr(DT_FLOAT)}, {"Tshape", MakeAttr(DT_INT64)}};
  CHECK(Out("Reshape", {Ph({2, 6}), Vec({-1, 2, 2}, DT_INT64)}, int64_shape) == "[3,2,2]");
  // Input size unknown: the -1 stays unknown, the rest comes from the target.
  CHECK(Out("Reshape", {Ph({-1, 3}), Vec({-1, 3})}, kFloat) == "[?,3]");
  CHECK(Out("Reshape", {Ph(PartialShape()), Vec({2, -1, 5})}, kFloat) == "[2,?,5]");
}

TEST_CASE("Reshape takes its target from a Shape of a known shape", "[shape][array]") {
  CHECK(Out("Reshape", {Ph({4, 6}), ShapeOf({2, 3, 4})}, kFloat) == "[2,3,4]");
  // A Shape of a partial shape has no static value, but its known sizes are known, and the
  // one unknown size follows from the element count.
  CHECK(Out("Reshape", {Ph({4, 6}), ShapeOf({-1, 3, 4})}, kFloat) == "[2,3,4]");
  CHECK(Out("Reshape", {Ph({-1, 6}), ShapeOf({-1, 3, -1})}, kFloat) == "[?,3,?]");
}

TEST_CASE("Reshape with an unknown target keeps what its length says", "[shape][array]") {
  CHECK(Out("Reshape", {Ph({2, 3}), Ph({3}, DT_INT32)}, kFloat) == "[?,?,?]");
  CHECK(Out("Reshape", {Ph({2, 3}), Ph({-1}, DT_INT32)}, kFloat) == "<unknown>");
}

TEST_CASE("Reshape errors", "[shape][array][error]") {
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Vec({4, 2})}, kFloat),
             Contains("node 'op' (Reshape): cannot reshape [2,3] (6 elements) to [4,2] "
                      "(8 elements)"));
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Vec({4, -1})}, kFloat),
             Contains("cannot reshape [2,3] (6 elements) to [4,-1]: 6 is not a multiple of 4"));
  CHECK_THAT(Out("Reshape", {Ph({3, 0}), Vec({-1, 0})}, kFloat),
             Contains("cannot reshape [3,0] to [-1,0]: the -1 is ambiguous when the other sizes "
                      "multiply to 0"));
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Vec({-1, -1})}, kFloat),
             Contains("input 1 (shape) is [-1,-1], expected at most one -1"));
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Vec({-2, 3})}, kFloat),
             Contains("input 1 (shape) is [-2,3], expected sizes >= -1"));
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Ph({2, 2}, DT_INT32)}, kFloat),
             Contains("input 1 has shape [2,2], expected rank 1"));
  CHECK_THAT(Out("Reshape", {Ph({2, 3}), Ph({2}, DT_FLOAT)},
                 {{"T", MakeAttr(DT_FLOAT)}, {"Tshape", MakeAttr(DT_FLOAT)}}),
             Contains("attr 'Tshape' is float, expected one of {int32, int64}"));
}

TEST_CASE("Shape gives a vector as long as the rank", "[shape][array]") {
  CHECK(Out("Shape", {Ph({2, -1, 4})}, kFloat) == "[3]");
  CHECK(Out("Shape", {Ph(PartialShape::Scalar())}, kFloat) == "[0]");
  CHECK(Out("Shape", {Ph(PartialShape())}, kFloat) == "[?]");
  absl::StatusOr<std::vector<PartialShape>> shapes =
      Infer("Shape", {Ph({2})}, {{"T", MakeAttr(DT_FLOAT)}, {"out_type", MakeAttr(DT_INT64)}});
  REQUIRE(shapes.ok());
  CHECK((*shapes)[0] == PartialShape({1}));
  CHECK_THAT(Out("Shape", {Ph({2})}, {{"T", MakeAttr(DT_FLOAT)}, {"out_type", MakeAttr(DT_FLOAT)}}),
             Contains("attr 'out_type' is float, expected one of {int32, int64}"));
}

TEST_CASE("Transpose permutes known dimensions", "[shape][array]") {
  CHECK(Out("Transpose", {Ph({2, 3, 4}), Vec({2, 0, 1})}, kFloat) == "[4,2,3]");
  CHECK(Out("Transpose", {Ph({-1, 5}), Vec({1, 0})}, kFloat) == "[5,?]");
  CHECK(Out("Transpose", {Ph(PartialShape()), Vec({1, 0})}, kFloat) == "[?,?]");
  CHECK(Out("Transpose", {Ph({2, 3, 4}), Ph({3}, DT_INT32)}, kFloat) == "[?,?,?]");
  CHECK(Out("Transpose", {Ph({2, 3, 4}), Ph({-1}, DT_INT32)}, kFloat) == "[?,?,?]");
  CHECK(Out("Transpose", {Ph(PartialShape()), Ph({-1}, DT_INT32)}, kFloat) == "<unknown>");
}

TEST_CASE("Transpose errors", "[shape][array][error]") {
  CHECK_THAT(Out("Transpose", {Ph({2, 3, 4}), Vec({0, 0, 1})}, kFloat),
             Contains("input 1 (perm) is [0,0,1]: 0 appears twice, expected a permutation"));
  CHECK_THAT(Out("Transpose", {Ph({2, 3, 4}), Vec({0, 3, 1})}, kFloat),
             Contains("input 1 (perm) is [0,3,1]: entry 1 is 3, expected a value in [0, 3)"));
  CHECK_THAT(Out("Transpose", {Ph({2, 3, 4}), Vec({-1, 0, 1})}, kFloat),
             Contains("entry 0 is -1, expected a value in [0, 3)"));
  CHECK_THAT(Out("Transpose", {Ph({2, 3, 4}), Ph({2}, DT_INT32)}, kFloat),
             Contains("input 1 (perm) has shape [2], expected [3] (the rank of input 0)"));
  CHECK_THAT(Out("Transpose", {Ph(PartialShape()), Vec({1, 1})}, kFloat),
             Contains("1 appears twice"));
}

TEST_CASE("ExpandDims inserts a 1 at positive and negative dims", "[shape][array]") {
  CHECK(Out("ExpandDims", {Ph({2, 3}), Scalar(0)}, kFloat) == "[1,2,3]");
  CHECK(Out("ExpandDims", {Ph({2, 3}), Scalar(2)}, kFloat) == "[2,3,1]");
  CHECK(Out("ExpandDims", {Ph({2, 3}), Scalar(-1)}, kFloat) == "[2,3,1]");
  CHECK(Out("ExpandDims", {Ph({2, 3}), Scalar(-3)}, kFloat) == "[1,2,3]");
  CHECK(Out("ExpandDims", {Ph({2, 3}), Vec({1})}, kFloat) == "[2,1,3]");
  CHECK(Out("ExpandDims", {Ph(PartialShape::Scalar()), Scalar(0)}, kFloat) == "[1]");
  CHECK(Out("ExpandDims", {Ph({2, -1}), Ph(PartialShape::Scalar(), DT_INT32)}, kFloat) ==
        "[?,?,?]");
  CHECK(Out("ExpandDims", {Ph(PartialShape()), Scalar(0)}, kFloat) == "<unknown>");
}

TEST_CASE("ExpandDims errors", "[shape][array][error]") {
  CHECK_THAT(Out("ExpandDims", {Ph({2, 3}), Scalar(3)}, kFloat),
             Contains("input 1 (dim) is 3, expected a value in [-3, 3) for rank 3"));
  CHECK_THAT(Out("ExpandDims", {Ph({2, 3}), Scalar(-4)}, kFloat),
             Contains("input 1 (dim) is -4, expected a value in [-3, 3)"));
  CHECK_THAT(Out("ExpandDims", {Ph({2, 3}), Vec({0, 1})}, kFloat),
             Contains("input 1 (dim) has shape [2], expected a scalar"));
}

TEST_CASE("Squeeze drops size-1 dims", "[shape][array]") {
  CHECK(Out("Squeeze", {Ph({1, 2, 1, 3})}, kFloat) == "[2,3]");
  CHECK(Out("Squeeze", {Ph({1, 1, 1})}, kFloat) == "[]");
  Attrs last = {{"T", MakeAttr(DT_FLOAT)}, {"squeeze_dims", MakeAttr(std::vector<int64_t>{-2})}};
  CHECK(Out("Squeeze", {Ph({1, 2, 1, 3})}, last) == "[1,2,3]");
  Attrs first = {{"T", MakeAttr(DT_FLOAT)}, {"squeeze_dims", MakeAttr(std::vector<int64_t>{0})}};
  // A named unknown dim is taken to be 1; the kernel checks it.
  CHECK(Out("Squeeze", {Ph({-1, 1, 4})}, first) == "[1,4]");
  // With no dims named, an unknown dim might be 1, so the rank is unknown.
  CHECK(Out("Squeeze", {Ph({-1, 1, 4})}, kFloat) == "<unknown>");
  CHECK(Out("Squeeze", {Ph(PartialShape())}, first) == "<unknown>");
}

TEST_CASE("Squeeze errors", "[shape][array][error]") {
  Attrs middle = {{"T", MakeAttr(DT_FLOAT)}, {"squeeze_dims", MakeAttr(std::vector<int64_t>{1})}};
  CHECK_THAT(Out("Squeeze", {Ph({1, 2, 1})}, middle),
             Contains("cannot squeeze dimension 1 of input 0 with shape [1,2,1]: expected size "
                      "1, found 2"));
  Attrs far = {{"T", MakeAttr(DT_FLOAT)}, {"squeeze_dims", MakeAttr(std::vector<int64_t>{-4})}};
  CHECK_THAT(Out("Squeeze", {Ph({1, 2, 1})}, far),
             Contains("squeeze_dims entry is -4, expected a value in [-3, 3)"));
}

Attrs ConcatAttrs(int n, DataType t = DT_FLOAT) {
  return {{"T", MakeAttr(t)}, {"N", MakeAttr(n)}};
}

TEST_CASE("ConcatV2 sums the axis and merges the rest", "[shape][array]") {
  CHECK(Out("ConcatV2", {Ph({2, 3}), Ph({4, 3}), Scalar(0)}, ConcatAttrs(2)) == "[6,3]");
  CHECK(Out("ConcatV2", {Ph({2, 3}), Ph({2, 5}), Ph({2, 1}), Scalar(-1)}, ConcatAttrs(3)) ==
        "[2,9]");
  CHECK(Out("ConcatV2", {Ph({-1, 3}), Ph({2, 3}), Scalar(0)}, ConcatAttrs(2)) == "[?,3]");
  CHECK(Out("ConcatV2", {Ph({-1, 3}), Ph({2, -1}), Scalar(1)}, ConcatAttrs(2)) == "[2,?]");
  CHECK(Out("ConcatV2", {Ph(PartialShape()), Ph({2, 3}), Scalar(1)}, ConcatAttrs(2)) == "[2,?]");
  CHECK(Out("ConcatV2", {Ph({2, 3}), Ph({2, 3}), Ph(PartialShape::Scalar(), DT_INT32)},
            ConcatAttrs(2)) == "[?,?]");
  Attrs int64_axis = ConcatAttrs(2);
  int64_axis.push_back({"Tidx", MakeAttr(DT_INT64)});
  CHECK(Out("ConcatV2", {Ph({2, 3}), Ph({2, 3}), Scalar(-2, DT_INT64)}, int64_axis) == "[4,3]");
}

TEST_CASE("ConcatV2 errors", "[shape][array][error]") {
  CHECK_THAT(Out("ConcatV2", {Ph({2, 3}), Ph({3, 4}), Scalar(0)}, ConcatAttrs(2)),
             Contains("input 1 has shape [3,4], expected [?,3] (dimensions other than axis 0 "
                      "must match)"));
  CHECK_THAT(Out("ConcatV2", {Ph({2, 3}), Ph({2, 3, 1}), Scalar(0)}, ConcatAttrs(2)),
             Contains("input 1 has shape [2,3,1], expected rank 2 (input 0 has shape [2,3])"));
  CHECK_THAT(Out("ConcatV2", {Ph({2, 3}), Ph({2, 3}), Scalar(2)}, ConcatAttrs(2)),
             Contains("input 2 (axis) is 2, expected a value in [-2, 2) for rank 2"));
  CHECK_THAT(Out("ConcatV2", {Ph(PartialShape::Scalar()), Ph(PartialShape::Scalar()), Scalar(0)}, ConcatAttrs(2)),
             Contains("is a scalar, expected rank >= 1"));
  CHECK_THAT(Out("ConcatV2", {Ph({2, 3}), Scalar(0)}, ConcatAttrs(1)),
             Contains("attr 'N' is 1, expected >= 2"));
}

TEST_CASE("BiasAdd checks the bias against the channel dimension", "[shape][nn]") {
  CHECK(Out("BiasAdd", {Ph({2, 3, 4}), Ph({4})}, kFloat) == "[2,3,4]");
  CHECK(Out("BiasAdd", {Ph({-1, -1}), Ph({7})}, kFloat) == "[?,7]");
  Attrs nchw = {{"T", MakeAttr(DT_FLOAT)}, {"data_format", MakeAttr("NCHW")}};
  CHECK(Out("BiasAdd", {Ph({2, 3, 4, 5}), Ph({3})}, nchw) == "[2,3,4,5]");
  CHECK(Out("BiasAdd", {Ph({2, -1, 4, 5}), Ph({3})}, nchw) == "[2,3,4,5]");
  CHECK(Out("BiasAdd", {Ph(PartialShape()), Ph({3})}, nchw) == "<unknown>");
}

TEST_CASE("BiasAdd errors", "[shape][nn][error]") {
  CHECK_THAT(Out("BiasAdd", {Ph({2, 4}), Ph({3})}, kFloat),
             Contains("node 'op' (BiasAdd): input 1 has shape [3], expected [4] (bias size must "
                      "match the last dimension of value)"));
  Attrs nchw = {{"T", MakeAttr(DT_FLOAT)}, {"data_format", MakeAttr("NCHW")}};
  CHECK_THAT(Out("BiasAdd", {Ph({2, 3, 4, 5}), Ph({5})}, nchw),
             Contains("input 1 has shape [5], expected [3] (bias size must match dimension 1 of "
                      "value for data_format NCHW)"));
  CHECK_THAT(Out("BiasAdd", {Ph({4}), Ph({4})}, kFloat),
             Contains("input 0 has shape [4], expected rank >= 2"));
  CHECK_THAT(Out("BiasAdd", {Ph({2, 4}), Ph({1, 4})}, kFloat),
             Contains("input 1 has shape [1,4], expected rank 1"));
  Attrs bad = {{"T", MakeAttr(DT_FLOAT)}, {"data_format", MakeAttr("NCDHW")}};
  CHECK_THAT(Out("BiasAdd", {Ph({2, 4}), Ph({4})}, bad),
             Contains("attr 'data_format' is \"NCDHW\", expected one of {\"NHWC\", \"NCHW\"}"));
}

TEST_CASE("Relu and Softmax keep the shape", "[shape][nn]") {
  CHECK(Out("Relu", {Ph({2, -1, 3})}, kFloat) == "[2,?,3]");
  CHECK(Out("Relu", {Ph(PartialShape())}, kFloat) == "<unknown>");
  CHECK(Out("Softmax", {Ph({-1, 10})}, kFloat) == "[?,10]");
  CHECK_THAT(Out("Softmax", {Ph(PartialShape::Scalar())}, kFloat),
             Contains("input 0 has shape [], expected rank >= 1"));
  CHECK_THAT(Out("Softmax", {Ph({2}, DT_INT32)}, {{"T", MakeAttr(DT_INT32)}}),
             Contains("attr 'T' is int32, expected one of {half, bfloat16, float, double}"));
}

}  // namespace
}  // namespace weir
