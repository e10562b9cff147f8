// rendezvous_test.cc - The per-step rendezvous: send before or after the receive, abort.
#include "runtime/rendezvous.h"

#include <catch2/catch.hpp>

namespace weir {
namespace {

TEST_CASE("a value meets its receiver in either order") {
  Rendezvous r;
  const std::string k1 = RendezvousKey("/device:CPU:0", 1, "/device:CPU:1", "a:0");
  const std::string k2 = RendezvousKey("/device:CPU:0", 1, "/device:CPU:1", "b:0");
  CHECK(k1 == "/device:CPU:0;1;/device:CPU:1;a:0");
  REQUIRE(r.Send(k1, Tensor::Scalar<float>(1)).ok());
  float got = 0;
  r.RecvAsync(k1, [&](const absl::Status& s, const Tensor& t) {
    REQUIRE(s.ok());
    got = t.data<float>()[0];
  });
  CHECK(got == 1.f);
  bool called = false;
  r.RecvAsync(k2, [&](const absl::Status& s, const Tensor& t) {
    REQUIRE(s.ok());
    called = true;
    got = t.data<float>()[0];
  });
  CHECK_FALSE(called);
  REQUIRE(r.Send(k2, Tensor::Scalar<float>(2)).ok());
  CHECK(called);
  CHECK(got == 2.f);
  CHECK(r.Send(k2, Tensor::Scalar<float>(3)).code() == absl::StatusCode::kInternal);
}

TEST_CASE("StartAbort fails pending and later receives with the first status") {
  Rendezvous r;
  absl::Status pending;
  r.RecvAsync("k", [&](const absl::Status& s, const Tensor&) { pending = s; });
  r.StartAbort(absl::InvalidArgumentError("first"));
  r.StartAbort(absl::CancelledError("second"));
  CHECK(pending.message() == "first");
  absl::Status later;
  r.RecvAsync("k2", [&](const absl::Status& s, const Tensor&) { later = s; });
  CHECK(later.message() == "first");
  CHECK(r.Send("k3", Tensor::Scalar<float>(1)).message() == "first");
  CHECK(r.status().message() == "first");
}

}  // namespace
}  // namespace weir
