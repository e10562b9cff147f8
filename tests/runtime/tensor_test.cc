// tensor_test.cc - Tensors: proto decoding and encoding, sharing, reshaping, printing
// (runtime/tensor.cc).
#include "runtime/tensor.h"

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace weir {
namespace {

using Catch::Matchers::Contains;

TensorProto MakeProto(DataType dtype, std::vector<int64_t> dims) {
  TensorProto proto;
  proto.set_dtype(dtype);
  for (int64_t d : dims) proto.mutable_tensor_shape()->add_dim()->set_size(d);
  return proto;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

TEST_CASE("FromProto repeats the last value to fill the shape") {
  TensorProto proto = MakeProto(DT_FLOAT, {4});
  proto.add_float_val(1);
  proto.add_float_val(2);
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE(t.ok());
  CHECK(t->dtype() == DT_FLOAT);
  CHECK(t->shape() == TensorShape({4}));
  CHECK(Values<float>(*t) == std::vector<float>{1, 2, 2, 2});
}

TEST_CASE("FromProto fills a splat from one value") {
  TensorProto proto = MakeProto(DT_INT32, {2, 3});
  proto.add_int_val(7);
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE(t.ok());
  CHECK(Values<int32_t>(*t) == std::vector<int32_t>(6, 7));
}

TEST_CASE("FromProto with no values gives zeros") {
  absl::StatusOr<Tensor> t = Tensor::FromProto(MakeProto(DT_DOUBLE, {3}));
  REQUIRE(t.ok());
  CHECK(Values<double>(*t) == std::vector<double>{0, 0, 0});
}

TEST_CASE("FromProto reads each dtype's value field") {
  SECTION("int64") {
    TensorProto proto = MakeProto(DT_INT64, {2});
    proto.add_int64_val(int64_t{1} << 40);
    proto.add_int64_val(-3);
    absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
    REQUIRE(t.ok());
    CHECK(Values<int64_t>(*t) == std::vector<int64_t>{int64_t{1} << 40, -3});
  }
  SECTION("bool") {
    TensorProto proto = MakeProto(DT_BOOL, {3});
    proto.add_bool_val(false);
    proto.add_bool_val(true);
    absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
    REQUIRE(t.ok());
    CHECK(Values<bool>(*t) == std::vector<bool>{false, true, true});
  }
  SECTION("uint8 from int_val") {
    TensorProto proto = MakeProto(DT_UINT8, {2});
    proto.add_int_val(255);
    proto.add_int_val(1);
    absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
    REQUIRE(t.ok());
    CHECK(Values<uint8_t>(*t) == std::vector<uint8_t>{255, 1});
  }
  SECTION("scalar") {
    TensorProto proto = MakeProto(DT_FLOAT, {});
    proto.add_float_val(2.5f);
    absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
    REQUIRE(t.ok());
    CHECK(t->rank() == 0);
    CHECK(t->data<float>()[0] == 2.5f);
  }
  SECTION("empty") {
    absl::StatusOr<Tensor> t = Tensor::FromProto(MakeProto(DT_FLOAT, {0, 4}));
    REQUIRE(t.ok());
    CHECK(t->num_elements() == 0);
    CHECK(t->IsInitialized());
  }
}

TEST_CASE("FromProto decodes tensor_content") {
  TensorProto proto = MakeProto(DT_FLOAT, {2, 2});
  const float values[4] = {1.5f, -2.f, 3.f, 4.25f};
  proto.set_tensor_content(values, sizeof(values));
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE(t.ok());
  CHECK(Values<float>(*t) == std::vector<float>{1.5f, -2.f, 3.f, 4.25f});
}

TEST_CASE("FromProto rejects tensor_content of the wrong size") {
  TensorProto proto = MakeProto(DT_FLOAT, {2, 3});
  const float values[4] = {1, 2, 3, 4};
  proto.set_tensor_content(values, sizeof(values));
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE_FALSE(t.ok());
  CHECK(absl::IsInvalidArgument(t.status()));
  CHECK_THAT(std::string(t.status().message()),
             Contains("float") && Contains("[2,3]") && Contains("16 content bytes") &&
                 Contains("expected 24"));
}

TEST_CASE("FromProto rejects more values than elements") {
  TensorProto proto = MakeProto(DT_INT32, {2});
  for (int i = 0; i < 3; ++i) proto.add_int_val(i);
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(std::string(t.status().message()),
             Contains("int32") && Contains("[2]") && Contains("3 values") &&
                 Contains("expected at most 2"));
}

TEST_CASE("FromProto rejects shapes that are not fully defined") {
  SECTION("unknown dimension") {
    absl::StatusOr<Tensor> t = Tensor::FromProto(MakeProto(DT_FLOAT, {-1, 2}));
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(std::string(t.status().message()),
               Contains("tensor proto") && Contains("found [?,2]"));
  }
  SECTION("unknown rank") {
    TensorProto proto = MakeProto(DT_FLOAT, {});
    proto.mutable_tensor_shape()->set_unknown_rank(true);
    absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(std::string(t.status().message()), Contains("unknown rank"));
  }
  SECTION("element count overflow") {
    // 2^62 * 8 wraps int64 to 0; without a check this would be a zero-byte tensor with a
    // shape claiming 2^65 elements.
    absl::StatusOr<Tensor> t = Tensor::FromProto(MakeProto(DT_FLOAT, {int64_t{1} << 62, 8}));
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(std::string(t.status().message()), Contains("too many elements"));
  }
}

TEST_CASE("FromProto rejects dtypes Weir cannot hold") {
  TensorProto proto = MakeProto(DT_VARIANT, {1});
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE_FALSE(t.ok());
  CHECK(absl::IsUnimplemented(t.status()));
  CHECK_THAT(std::string(t.status().message()), Contains("variant"));
}

TEST_CASE("string tensors: FromProto reads string_val, repeating the last value") {
  TensorProto proto = MakeProto(DT_STRING, {2, 2});
  proto.add_string_val("Condition x == y did not hold");
  proto.add_string_val(std::string("a\0b", 3));  // bytes, not C strings
  absl::StatusOr<Tensor> t = Tensor::FromProto(proto);
  REQUIRE(t.ok());
  CHECK(t->dtype() == DT_STRING);
  CHECK(t->shape() == TensorShape({2, 2}));
  CHECK(t->TotalBytes() == 0);
  CHECK(Values<std::string>(*t) ==
        std::vector<std::string>{"Condition x == y did not hold", std::string("a\0b", 3),
                                 std::string("a\0b", 3), std::string("a\0b", 3)});

  SECTION("a scalar") {
    TensorProto scalar = MakeProto(DT_STRING, {});
    scalar.add_string_val("hello");
    absl::StatusOr<Tensor> s = Tensor::FromProto(scalar);
    REQUIRE(s.ok());
    CHECK(s->rank() == 0);
    CHECK(s->data<std::string>()[0] == "hello");
  }
  SECTION("no values gives empty strings") {
    absl::StatusOr<Tensor> e = Tensor::FromProto(MakeProto(DT_STRING, {3}));
    REQUIRE(e.ok());
    CHECK(Values<std::string>(*e) == std::vector<std::string>{"", "", ""});
  }
  SECTION("an empty tensor") {
    absl::StatusOr<Tensor> e = Tensor::FromProto(MakeProto(DT_STRING, {0, 4}));
    REQUIRE(e.ok());
    CHECK(e->num_elements() == 0);
    CHECK(e->DebugString() == "string [0,4] []");
  }
  SECTION("more values than elements is an error") {
    TensorProto bad = MakeProto(DT_STRING, {1});
    bad.add_string_val("a");
    bad.add_string_val("b");
    absl::StatusOr<Tensor> e = Tensor::FromProto(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(absl::IsInvalidArgument(e.status()));
    CHECK_THAT(std::string(e.status().message()),
               Contains("dtype string and shape [1]") && Contains("2 values, expected at most 1"));
  }
  SECTION("tensor_content is refused") {
    TensorProto bad = MakeProto(DT_STRING, {1});
    bad.set_tensor_content("abcd");
    absl::StatusOr<Tensor> e = Tensor::FromProto(bad);
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(std::string(e.status().message()), Contains("expected string_val"));
  }
}

TEST_CASE("string tensors: ToProto writes string_val and round-trips") {
  Tensor t = Tensor::FromVector<std::string>({"a", "", "tab\there", std::string(100, 'x')}, {2, 2});
  TensorProto proto;
  t.ToProto(&proto);
  CHECK(proto.dtype() == DT_STRING);
  CHECK(proto.tensor_content().empty());
  REQUIRE(proto.string_val_size() == 4);
  CHECK(proto.string_val(2) == "tab\there");
  absl::StatusOr<Tensor> back = Tensor::FromProto(proto);
  REQUIRE(back.ok());
  CHECK(back->shape() == t.shape());
  CHECK(Values<std::string>(*back) == Values<std::string>(t));
  CHECK(Tensor::Scalar(std::string("s")).data<std::string>()[0] == "s");
}

TEST_CASE("string tensors: DeepCopy copies, copies and Reshaped share") {
  Tensor a = Tensor::FromVector<std::string>({"one", "two", "three", "four"}, {2, 2});
  Tensor shared = a;
  Tensor deep = a.DeepCopy();
  Tensor flat = a.Reshaped({4});
  CHECK_FALSE(deep.SharesBufferWith(a));
  CHECK(flat.SharesBufferWith(a));
  a.data<std::string>()[0] = "changed, and long enough to leave the small-string buffer";
  CHECK(shared.data<std::string>()[0] == a.data<std::string>()[0]);
  CHECK(flat.data<std::string>()[0] == a.data<std::string>()[0]);
  CHECK(deep.data<std::string>()[0] == "one");
  CHECK(Values<std::string>(deep) == std::vector<std::string>{"one", "two", "three", "four"});
  // The last reference destroys the strings (the sanitizer-free check: no crash, no leak
  // visible here, and a fresh tensor starts empty).
  a = Tensor();
  shared = Tensor();
  CHECK(flat.data<std::string>()[3] == "four");
  flat = Tensor();
  Tensor fresh(DT_STRING, TensorShape({3}));
  CHECK(Values<std::string>(fresh) == std::vector<std::string>{"", "", ""});
}

TEST_CASE("ToProto then FromProto gives the same tensor") {
  Tensor t = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {3, 2});
  TensorProto proto;
  t.ToProto(&proto);
  CHECK(proto.dtype() == DT_INT32);
  CHECK(proto.tensor_content().size() == 24);
  absl::StatusOr<Tensor> back = Tensor::FromProto(proto);
  REQUIRE(back.ok());
  CHECK(back->shape() == t.shape());
  CHECK(Values<int32_t>(*back) == Values<int32_t>(t));
}

TEST_CASE("copies share the buffer; DeepCopy and Reshaped behave") {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor shared = a;
  CHECK(shared.SharesBufferWith(a));
  Tensor deep = a.DeepCopy();
  CHECK_FALSE(deep.SharesBufferWith(a));
  a.data<float>()[0] = 9;
  CHECK(shared.data<float>()[0] == 9);
  CHECK(deep.data<float>()[0] == 1);
  Tensor flat = a.Reshaped({4});
  CHECK(flat.SharesBufferWith(a));
  CHECK(flat.shape() == TensorShape({4}));
  CHECK(flat.data<float>()[3] == 4);
}

TEST_CASE("DebugString shows dtype, shape and nested values") {
  Tensor t = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.DebugString() == "float [2,3] [[1, 2, 3], [4, 5, 6]]");
  CHECK(Tensor::Scalar<int32_t>(7).DebugString() == "int32 [] 7");
  CHECK_THAT(t.ValuesString(2), Contains("..."));
  CHECK(Tensor().ValuesString() == "<uninitialized>");
}

TEST_CASE("DebugString quotes and escapes strings") {
  Tensor t = Tensor::FromVector<std::string>({"a", "b\"c", "line\n"}, {3});
  CHECK(t.DebugString() == "string [3] [\"a\", \"b\\\"c\", \"line\\n\"]");
  CHECK(Tensor::Scalar(std::string("x")).DebugString() == "string [] \"x\"");
  CHECK(t.ValuesString(1) == "[\"a\"...]");
}

}  // namespace
}  // namespace weir
