// device_placement_test.cc - A node asking for /device:GPU:0 in a session without that GPU:
// with soft placement off, Run fails with InvalidArgument naming the node and the device;
// with soft placement (the default) it runs on the CPU and computes the right values. Sessions
// with num_gpu_devices = 0 have no GPU on any machine, so those cases always run; the ones
// relying on the default (-1, whatever CUDA finds) need a machine without a GPU and skip on one
// with a GPU.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "builder/ops.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

// x [3] -> y = Square(x), asking for `device` -> z = Neg(y) (no request).
GraphDef PinnedGraph(const std::string& device) {
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {3});
  Output y = ops::Square(s.WithOpName("y").WithDevice(device), x);
  ops::Neg(s.WithOpName("z"), y);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  return def;
}

std::unique_ptr<Session> MakeSession(const GraphDef& def, const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  return *std::move(session);
}

const Tensor& Input() {
  static const Tensor* x = new Tensor(Tensor::FromVector<float>({1.5f, -2.f, 3.f}, {3}));
  return *x;
}

// Without soft placement: InvalidArgument naming the node and the device it asked for.
void CheckRefused(const GraphDef& def, SessionOptions options, const std::string& device) {
  options.allow_soft_placement = false;
  std::unique_ptr<Session> session = MakeSession(def, options);
  REQUIRE(session->gpu_device() == nullptr);
  std::vector<Tensor> out;
  absl::Status st = session->Run({{"x", Input()}}, {"z"}, {}, &out);
  INFO(st.ToString());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("'y'") && Contains(device));
  // Every Run says so again (nothing half-compiled is cached).
  st = session->Run({{"x", Input()}}, {"y"}, {}, &out);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(session->num_cached_plans() == 0);
}

// With soft placement: the CPU computes z = -(x * x); the log shows where y went.
void CheckFallsBack(const GraphDef& def, SessionOptions options) {
  std::vector<std::string> log;
  options.placement_log = [&log](const std::string& line) { log.push_back(line); };
  std::unique_ptr<Session> session = MakeSession(def, options);
  REQUIRE(session->gpu_device() == nullptr);
  std::vector<Tensor> out;
  absl::Status st = session->Run({{"x", Input()}}, {"z", "y"}, {}, &out);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(out.size() == 2);
  CHECK(std::vector<float>(out[0].data<float>(), out[0].data<float>() + 3) ==
        std::vector<float>{-2.25f, -4.f, -9.f});
  CHECK(std::vector<float>(out[1].data<float>(), out[1].data<float>() + 3) ==
        std::vector<float>{2.25f, 4.f, 9.f});
  CHECK(std::find(log.begin(), log.end(), "y: (Square): /device:CPU:0") != log.end());
}

TEST_CASE("a node pinned to /device:GPU:0 on a machine without a GPU") {
  if (GpuDeviceCount() > 0) {
    WARN("SKIPPED: this case needs a machine without a GPU (num_gpu_devices = 0 cases run)");
    return;
  }
  const GraphDef def = PinnedGraph("/device:GPU:0");
  SECTION("without soft placement, Run fails naming the node and the device") {
    CheckRefused(def, SessionOptions(), "/device:GPU:0");
  }
  SECTION("with soft placement (the default), it runs on the CPU") {
    SessionOptions options;
    REQUIRE(options.allow_soft_placement);
    CheckFallsBack(def, options);
  }
}

TEST_CASE("a node pinned to a GPU in a session with num_gpu_devices = 0") {
  SessionOptions options;
  options.num_gpu_devices = 0;
  for (const std::string device : {"/device:GPU:0", "/gpu:0", "/job:localhost/device:GPU:0"}) {
    INFO("requested " << device);
    const GraphDef def = PinnedGraph(device);
    CheckRefused(def, options, device);
    CheckFallsBack(def, options);
  }
}

}  // namespace
}  // namespace weir
