// multi_device_test.cc - Sessions with several CPU devices (SessionOptions::num_cpu_devices):
// nodes pinned to /device:CPU:1 run in their own partition, joined by _Send/_Recv through the
// step's rendezvous. Same results as one device, data and control edges crossing both ways,
// concurrent runs, a failing partition's error, timeout and cancellation, the placement log.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "graph/graph_io.h"
#include "graph/ops/shape_fns.h"
#include "kernels/registry.h"
#include "runtime/session.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

std::string Node(const std::string& name, const std::string& op, std::vector<std::string> inputs,
                 const std::string& device, const std::string& attrs = "") {
  std::string text = absl::StrCat("node { name: '", name, "' op: '", op, "'");
  for (const std::string& in : inputs) absl::StrAppend(&text, " input: '", in, "'");
  if (!device.empty()) absl::StrAppend(&text, " device: '", device, "'");
  absl::StrAppend(&text, attrs.empty() ? " attr { key: 'T' value { type: DT_FLOAT } }" : attrs, " }\n");
  return text;
}

const char kFloatPlaceholder[] = " attr { key: 'dtype' value { type: DT_FLOAT } }";

// x (CPU:0) -> a = Square (CPU:1) -> b = Neg (CPU:0); c = Exp(x) (CPU:1) after ^b (a control
// edge CPU:0 -> CPU:1); d = AddV2(b, c) on CPU:1; e = Mul(a, x) on CPU:0 (a read twice on CPU:0).
GraphDef CrossingGraph() {
  std::string text = Node("x", "Placeholder", {}, "", kFloatPlaceholder) +
                     Node("a", "Square", {"x"}, "/device:CPU:1") +
                     Node("b", "Neg", {"a"}, "/device:CPU:0") +
                     Node("c", "Exp", {"x", "^b"}, "/cpu:1") +
                     Node("d", "AddV2", {"b", "c"}, "/device:CPU:1") +
                     Node("e", "Mul", {"a", "x"}, "/device:CPU:0");
  GraphDef def;
  REQUIRE(ParseGraphDef(text, /*text=*/true, &def).ok());
  return def;
}

std::unique_ptr<Session> MakeSession(const GraphDef& def, SessionOptions options) {
  auto session = Session::Create(def, options);
  REQUIRE(session.ok());
  return *std::move(session);
}

Tensor Vector(std::vector<float> values) {
  Tensor t(DT_FLOAT, TensorShape({static_cast<int64_t>(values.size())}));
  for (size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = values[i];
  return t;
}

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
}

TEST_CASE("a graph across two CPU devices computes what one device computes") {
  const GraphDef def = CrossingGraph();
  SessionOptions one;
  auto reference = MakeSession(def, one);
  for (int inter_op : {1, 4}) {
    SessionOptions two;
    two.num_cpu_devices = 2;
    two.inter_op_threads = inter_op;
    std::vector<std::string> log;
    two.placement_log = [&log](const std::string& line) { log.push_back(line); };
    auto session = MakeSession(def, two);
    for (int step = 0; step < 3; ++step) {
      Tensor x = Vector({1.f + step, -2.f, 0.5f});
      std::vector<Tensor> want, got;
      REQUIRE(reference->Run({{"x", x}}, {"d", "e", "b"}, {}, &want).ok());
      REQUIRE(session->Run({{"x", x}}, {"d", "e", "b"}, {}, &got).ok());
      REQUIRE(got.size() == 3);
      for (int k = 0; k < 3; ++k) CHECK(Values(got[k]) == Values(want[k]));
    }
    CHECK(std::find(log.begin(), log.end(), "a: (Square): /device:CPU:1") != log.end());
    CHECK(std::find(log.begin(), log.end(), "c: (Exp): /device:CPU:1") != log.end());
    CHECK(std::find(log.begin(), log.end(), "b: (Neg): /device:CPU:0") != log.end());

    // A trace has one DeviceStepStats per partition, _Send/_Recv included.
    RunOptions trace;
    trace.trace_level = RunOptions::kFullTrace;
    RunMetadata metadata;
    std::vector<Tensor> out;
    REQUIRE(session->Run(trace, {{"x", Vector({1, 2, 3})}}, {"d"}, {}, &out, &metadata).ok());
    REQUIRE(metadata.step_stats().dev_stats_size() == 2);
    std::vector<std::string> devices, ops;
    for (const auto& dev : metadata.step_stats().dev_stats()) {
      devices.push_back(dev.device());
      for (const auto& n : dev.node_stats()) ops.push_back(n.timeline_label());
    }
    std::sort(devices.begin(), devices.end());
    CHECK(devices == std::vector<std::string>{"/device:CPU:0", "/device:CPU:1"});
    CHECK(std::count(ops.begin(), ops.end(), "_Recv") >= 2);
  }
}

TEST_CASE("with one CPU device a request for CPU:1 falls back to CPU:0") {
  std::vector<std::string> log;
  SessionOptions options;
  options.placement_log = [&log](const std::string& line) { log.push_back(line); };
  auto session = MakeSession(CrossingGraph(), options);
  std::vector<Tensor> out;
  REQUIRE(session->Run({{"x", Vector({2})}}, {"d"}, {}, &out).ok());
  CHECK(Values(out[0]) == std::vector<float>{-4.f + std::exp(2.f)});
  CHECK(std::find(log.begin(), log.end(), "a: (Square): /device:CPU:0") != log.end());
}

TEST_CASE("concurrent runs of a partitioned plan keep their steps apart") {
  SessionOptions options;
  options.num_cpu_devices = 2;
  options.inter_op_threads = 3;
  auto session = MakeSession(CrossingGraph(), options);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Tensor> out;
      for (int i = 0; i < 50; ++i) {
        const float v = t + 0.01f * i;
        if (!session->Run({{"x", Vector({v})}}, {"e", "b"}, {}, &out).ok() ||
            out[0].data<float>()[0] != v * v * v || out[1].data<float>()[0] != -(v * v)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("a kernel error in one partition fails the step naming the node; the next run works") {
  // x -> sq (CPU:0) -> r = Reshape(sq, shape) (CPU:1) -> y = Neg (CPU:0).
  std::string text = Node("x", "Placeholder", {}, "", kFloatPlaceholder) +
                     Node("shape", "Placeholder", {}, "", " attr { key: 'dtype' value { type: DT_INT32 } }") +
                     Node("sq", "Square", {"x"}, "/device:CPU:0") +
                     Node("r", "Reshape", {"sq", "shape"}, "/device:CPU:1",
                          " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tshape' value { type: DT_INT32 } }") +
                     Node("y", "Neg", {"r"}, "/device:CPU:0");
  GraphDef def;
  REQUIRE(ParseGraphDef(text, true, &def).ok());
  for (int inter_op : {1, 4}) {
    SessionOptions options;
    options.num_cpu_devices = 2;
    options.inter_op_threads = inter_op;
    auto session = MakeSession(def, options);
    Tensor bad(DT_INT32, TensorShape({1}));
    bad.data<int32_t>()[0] = 5;
    std::vector<Tensor> out;
    absl::Status st = session->Run({{"x", Vector({1, 2, 3})}, {"shape", bad}}, {"y"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(st.message()), Contains("node 'r' (Reshape)"));
    Tensor good(DT_INT32, TensorShape({1}));
    good.data<int32_t>()[0] = 3;
    REQUIRE(session->Run({{"x", Vector({1, 2, 3})}, {"shape", good}}, {"y"}, {}, &out).ok());
    CHECK(Values(out[0]) == std::vector<float>{-1, -4, -9});
  }
}

// A test-only op that sleeps, so a step is long enough to time out or cancel.
class SleepKernel : public OpKernel {
 public:
  explicit SleepKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::SleepFor(absl::Milliseconds(20));
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};

// x -> 10 sleeping nodes alternating CPU:0 and CPU:1 (~200 ms).
std::unique_ptr<Session> SleepChain() {
  static bool registered = [] {
    OpRegistry::Global().Register(
        OpSpec("TestMultiDeviceSleep").Input("x: float").Output("y: float").SetShapeFn(UnchangedShape));
    DefaultKernelRegistry().Register(
        {"TestMultiDeviceSleep", kDeviceCpu, "", {}, MakeFactory<SleepKernel>()});
    return true;
  }();
  (void)registered;
  std::string text = Node("x", "Placeholder", {}, "", kFloatPlaceholder);
  std::string prev = "x";
  for (int i = 0; i < 10; ++i) {
    const std::string name = absl::StrCat("s", i);
    text += Node(name, "TestMultiDeviceSleep", {prev}, absl::StrCat("/device:CPU:", i % 2), " ");
    prev = name;
  }
  text += Node("y", "Identity", {prev}, "/device:CPU:1");
  GraphDef def;
  REQUIRE(ParseGraphDef(text, true, &def).ok());
  SessionOptions options;
  options.num_cpu_devices = 2;
  options.inter_op_threads = 2;
  return MakeSession(def, options);
}

TEST_CASE("timeout and cancellation stop every partition; the next run works") {
  auto session = SleepChain();
  RunOptions options;
  options.timeout_in_ms = 50;
  std::vector<Tensor> out;
  absl::Status st = session->Run(options, {{"x", Vector({1})}}, {"y"}, {}, &out);
  REQUIRE(absl::IsDeadlineExceeded(st));
  CHECK_THAT(std::string(st.message()), Contains("step timed out before node"));
  REQUIRE(session->Run({{"x", Vector({3})}}, {"y"}, {}, &out).ok());
  CHECK(Values(out[0]) == std::vector<float>{3});

  std::atomic<bool> cancel{false};
  RunOptions cancellable;
  cancellable.cancel = &cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    cancel.store(true);
  });
  st = session->Run(cancellable, {{"x", Vector({1})}}, {"y"}, {}, &out);
  canceller.join();
  REQUIRE(absl::IsCancelled(st));
  cancel.store(false);
  REQUIRE(session->Run(cancellable, {{"x", Vector({2})}}, {"y"}, {}, &out).ok());
  CHECK(Values(out[0]) == std::vector<float>{2});
}

}  // namespace
}  // namespace weir
