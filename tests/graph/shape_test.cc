// shape_test.cc - PartialShape, TensorShape and broadcasting (graph/shape.cc).
#include "graph/shape.h"

#include <string>

#include <catch2/catch.hpp>

namespace weir {
namespace {

using Catch::Matchers::Contains;

constexpr int64_t kU = PartialShape::kUnknownDim;

TensorShapeProto ProtoOf(std::vector<int64_t> dims, bool unknown_rank = false) {
  TensorShapeProto proto;
  proto.set_unknown_rank(unknown_rank);
  for (int64_t d : dims) proto.add_dim()->set_size(d);
  return proto;
}

TEST_CASE("PartialShape::ToString") {
  CHECK(PartialShape({kU, 784}).ToString() == "[?,784]");
  CHECK(PartialShape::Scalar().ToString() == "[]");
  CHECK(PartialShape::Unknown().ToString() == "<unknown>");
  CHECK(PartialShape::UnknownOfRank(3).ToString() == "[?,?,?]");
  CHECK(TensorShape({2, 3}).ToString() == "[2,3]");
  CHECK(TensorShape().ToString() == "[]");
}

TEST_CASE("PartialShape rank, definedness and element count") {
  CHECK(PartialShape::Unknown().rank() == -1);
  CHECK_FALSE(PartialShape::Unknown().known_rank());
  CHECK(PartialShape::Scalar().rank() == 0);
  CHECK(PartialShape::Scalar().IsFullyDefined());
  CHECK(PartialShape::Scalar().num_elements() == 1);
  CHECK(PartialShape({2, 3, 4}).num_elements() == 24);
  CHECK(PartialShape({2, kU}).num_elements() == -1);
  CHECK_FALSE(PartialShape({2, kU}).IsFullyDefined());
  CHECK(PartialShape({0, 5}).num_elements() == 0);
  CHECK(TensorShape({0, 5}).num_elements() == 0);
  CHECK(TensorShape().num_elements() == 1);
}

TEST_CASE("PartialShape::IsCompatibleWith") {
  CHECK(PartialShape({kU, 784}).IsCompatibleWith(PartialShape({32, 784})));
  CHECK(PartialShape({32, 784}).IsCompatibleWith(PartialShape({kU, 784})));
  CHECK(PartialShape::Unknown().IsCompatibleWith(PartialShape({1, 2, 3})));
  CHECK(PartialShape({1, 2, 3}).IsCompatibleWith(PartialShape::Unknown()));
  CHECK(PartialShape({kU, kU}).IsCompatibleWith(PartialShape({kU, 3})));
  CHECK_FALSE(PartialShape({kU, 784}).IsCompatibleWith(PartialShape({32, 10})));
  CHECK_FALSE(PartialShape({kU}).IsCompatibleWith(PartialShape({kU, kU})));
  CHECK_FALSE(PartialShape::Scalar().IsCompatibleWith(PartialShape({1})));
  CHECK(PartialShape({kU, 2}).IsCompatibleWith(TensorShape({7, 2})));
  CHECK_FALSE(PartialShape({kU, 2}).IsCompatibleWith(TensorShape({7, 3})));
  CHECK_FALSE(PartialShape({kU, 2}).IsCompatibleWith(TensorShape({2})));
}

TEST_CASE("PartialShape::Merge keeps the most specific dims") {
  absl::StatusOr<PartialShape> merged = PartialShape({kU, 2}).Merge(PartialShape({3, kU}));
  REQUIRE(merged.ok());
  CHECK(*merged == PartialShape({3, 2}));

  merged = PartialShape::Unknown().Merge(PartialShape({kU, 5}));
  REQUIRE(merged.ok());
  CHECK(*merged == PartialShape({kU, 5}));

  merged = PartialShape({4}).Merge(PartialShape::Unknown());
  REQUIRE(merged.ok());
  CHECK(*merged == PartialShape({4}));

  merged = PartialShape::Unknown().Merge(PartialShape::Unknown());
  REQUIRE(merged.ok());
  CHECK_FALSE(merged->known_rank());
}

TEST_CASE("PartialShape::Merge of incompatible shapes names both") {
  absl::StatusOr<PartialShape> merged = PartialShape({kU, 2}).Merge(PartialShape({3, 4}));
  REQUIRE_FALSE(merged.ok());
  CHECK_THAT(std::string(merged.status().message()),
             Contains("[?,2]") && Contains("[3,4]") && Contains("incompatible"));
  CHECK_FALSE(PartialShape({1}).Merge(PartialShape({1, 1})).ok());
}

TEST_CASE("PartialShape::AsTensorShape") {
  absl::StatusOr<TensorShape> shape = PartialShape({2, 3}).AsTensorShape();
  REQUIRE(shape.ok());
  CHECK(*shape == TensorShape({2, 3}));
  shape = PartialShape({kU, 3}).AsTensorShape();
  REQUIRE_FALSE(shape.ok());
  CHECK_THAT(std::string(shape.status().message()), Contains("found [?,3]"));
  shape = PartialShape::Unknown().AsTensorShape();
  REQUIRE_FALSE(shape.ok());
  CHECK_THAT(std::string(shape.status().message()), Contains("<unknown>"));
}

TEST_CASE("PartialShape proto round trip") {
  for (const PartialShape& shape : {PartialShape::Unknown(), PartialShape::Scalar(),
                                    PartialShape({kU, 784}), PartialShape({1, 2, 3})}) {
    INFO(shape.ToString());
    TensorShapeProto proto;
    shape.ToProto(&proto);
    CHECK(PartialShape::FromProto(proto) == shape);
  }
  TensorShapeProto proto;
  PartialShape::Unknown().ToProto(&proto);
  CHECK(proto.unknown_rank());
  CHECK(proto.dim_size() == 0);
  // Any negative size reads as unknown.
  CHECK(PartialShape::FromProto(ProtoOf({-7, 2})) == PartialShape({kU, 2}));
}

TEST_CASE("TensorShape proto round trip") {
  TensorShapeProto proto;
  TensorShape({4, 0, 2}).ToProto(&proto);
  absl::StatusOr<TensorShape> shape = TensorShape::FromProto(proto);
  REQUIRE(shape.ok());
  CHECK(*shape == TensorShape({4, 0, 2}));
  shape = TensorShape::FromProto(TensorShapeProto());
  REQUIRE(shape.ok());
  CHECK(shape->rank() == 0);
}

TEST_CASE("TensorShape::FromProto rejects shapes that are not fully defined") {
  SECTION("unknown rank") {
    absl::StatusOr<TensorShape> shape = TensorShape::FromProto(ProtoOf({}, true));
    REQUIRE_FALSE(shape.ok());
    CHECK_THAT(std::string(shape.status().message()),
               Contains("expected a fully defined shape") && Contains("unknown rank"));
  }
  SECTION("unknown dimension") {
    absl::StatusOr<TensorShape> shape = TensorShape::FromProto(ProtoOf({2, -1}));
    REQUIRE_FALSE(shape.ok());
    CHECK_THAT(std::string(shape.status().message()),
               Contains("expected a fully defined shape") && Contains("found [2,?]"));
  }
  SECTION("an element count that overflows int64") {
    absl::StatusOr<TensorShape> shape =
        TensorShape::FromProto(ProtoOf({int64_t{1} << 62, 8}));
    REQUIRE_FALSE(shape.ok());
    CHECK_THAT(std::string(shape.status().message()), Contains("too many elements"));
  }
}

TEST_CASE("BroadcastShapes follows NumPy rules") {
  auto broadcast = [](const PartialShape& a, const PartialShape& b) {
    absl::StatusOr<PartialShape> result = BroadcastShapes(a, b);
    REQUIRE(result.ok());
    // Broadcasting is symmetric.
    absl::StatusOr<PartialShape> reversed = BroadcastShapes(b, a);
    REQUIRE(reversed.ok());
    CHECK(*reversed == *result);
    return *result;
  };
  SECTION("equal shapes") { CHECK(broadcast({2, 3}, {2, 3}) == PartialShape({2, 3})); }
  SECTION("scalar against anything") {
    CHECK(broadcast(PartialShape::Scalar(), {2, 3}) == PartialShape({2, 3}));
    CHECK(broadcast(PartialShape::Scalar(), PartialShape::Scalar()) == PartialShape::Scalar());
    CHECK(broadcast(PartialShape::Scalar(), {kU}) == PartialShape({kU}));
  }
  SECTION("size-1 dimensions stretch") {
    CHECK(broadcast({1, 3}, {4, 1}) == PartialShape({4, 3}));
    CHECK(broadcast({1}, {0}) == PartialShape({0}));
  }
  SECTION("rank mismatch aligns trailing dimensions") {
    CHECK(broadcast({3}, {4, 2, 3}) == PartialShape({4, 2, 3}));
    CHECK(broadcast({5, 1, 3}, {2, 1}) == PartialShape({5, 2, 3}));
  }
  SECTION("unknown dimensions") {
    CHECK(broadcast({kU, 784}, {784}) == PartialShape({kU, 784}));
    CHECK(broadcast({kU}, {5}) == PartialShape({5}));
    CHECK(broadcast({kU}, {1}) == PartialShape({kU}));
    CHECK(broadcast({kU}, {kU}) == PartialShape({kU}));
  }
  SECTION("unknown rank gives unknown rank") {
    CHECK_FALSE(broadcast(PartialShape::Unknown(), {2, 3}).known_rank());
  }
}

TEST_CASE("BroadcastShapes of incompatible shapes names both") {
  absl::StatusOr<PartialShape> result = BroadcastShapes(PartialShape({2, 3}), PartialShape({4, 3}));
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(std::string(result.status().message()),
             Contains("[2,3]") && Contains("[4,3]") && Contains("2 vs 4"));
  CHECK_FALSE(BroadcastShapes(PartialShape({3}), PartialShape({0})).ok());
  CHECK_FALSE(BroadcastShapes(PartialShape({2, 1}), PartialShape({7, 3, 1})).ok());
}

TEST_CASE("BroadcastShapes of concrete shapes") {
  absl::StatusOr<TensorShape> result = BroadcastShapes(TensorShape({8, 1, 6}), TensorShape({7, 1}));
  REQUIRE(result.ok());
  CHECK(*result == TensorShape({8, 7, 6}));
  result = BroadcastShapes(TensorShape({2}), TensorShape({3}));
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(std::string(result.status().message()), Contains("[2]") && Contains("[3]"));
}

TEST_CASE("TensorShape keeps small ranks inline and spills large ones") {
  TensorShape shape;
  std::vector<int64_t> want;
  // Grow one dimension at a time across the inline limit, checking every step.
  for (int64_t d = 1; d <= TensorShape::kInlineRank + 3; ++d) {
    shape.AddDim(d);
    want.push_back(d);
    REQUIRE(shape.rank() == static_cast<int>(d));
    CHECK(std::vector<int64_t>(shape.dims()) == want);
  }
  CHECK(shape.num_elements() == 362880);  // 9!
  shape.set_dim(8, 2);
  CHECK(shape.dim(8) == 2);
  // Copies and moves of a spilled shape, and back to an inline one.
  TensorShape copy = shape;
  CHECK(copy == shape);
  TensorShape moved = std::move(copy);
  CHECK(moved == shape);
  CHECK(moved.ToString() == "[1,2,3,4,5,6,7,8,2]");
  moved = TensorShape({4, 5});
  CHECK(moved.rank() == 2);
  CHECK(moved != shape);
  shape = moved;
  CHECK(shape == TensorShape({4, 5}));
  // Same dims in a different rank differ.
  CHECK(TensorShape({4, 5}) != TensorShape({4, 5, 1}));
  // dims() reads like a vector for callers that want one.
  const std::vector<int64_t>& dims = shape.dims();
  CHECK(dims == std::vector<int64_t>({4, 5}));
  CHECK(TensorShape(std::vector<int64_t>(8, 2)).num_elements() == 256);
}

}  // namespace
}  // namespace weir
