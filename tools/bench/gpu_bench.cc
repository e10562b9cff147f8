// gpu_bench.cc - Times whole weir::Session Runs on the GPU (/device:GPU:0): feeds copied from
// the host, the graph on the device, fetches copied back. One line per workload:
//
//   device: <GpuDevice::description()>
//   gpu mlp_b1 median_us=<x> target_us=22 ... (key=value fields)
//
// Workloads:
//   mlp_b1, mlp_b256  784-512-512-10 inference (MatMul+BiasAdd+Relu twice, MatMul+BiasAdd), random
//                     Const weights, x [B,784] fed, logits [B,10] fetched; checked against the
//                     same graph on a CPU-only session.
//   add_chain         2,000 dependent AddV2 (x = x + c) on a [16] float tensor, fed and fetched;
//                     on the GPU the elementwise fusion makes it one kernel.
//   add_chain_unfused the same with the fusion off: 2,000 kernels (replayed as one CUDA graph).
//   gemm_4096         MatMul of two 4096x4096 float Consts; a [1,1] Slice of the product is
//                     fetched, so the copy back is 4 bytes. Compared with cublasSgemm on the same
//                     shapes in this process (cudaEvent timing; TF32 as in the session).
//   train_step        one training step of the seed model (tools/seed_model.h: 784 -> Dense(64,
//                     ReLU) -> Dense(10), sparse softmax cross-entropy, Adam; static batch 128):
//                     Run of the train op with the loss fetched. Forward and backward on the GPU,
//                     the variables and Adam's updates on the CPU (weights go over and gradients
//                     come back every step). Checked: the losses of the first 5 steps against a
//                     CPU-only session's on the same batch.
//
// Timing: the first Run (compile) is reported as first_run_ms (train_step: its first step), then
// warm-up Runs, then `repeats` measurements of `runs` back-to-back Runs each (steady_clock);
// median_us is the median over the repeats of the mean time per Run, min_us/max_us the extremes
// of those means.
//
// Usage: gpu_bench [--runs N] [--repeats R] [--only a,b] [--tf32] [--inter-op N]
//                  [--no-graph-capture] [--no-fuse] [--cpu]
//   --runs N       Runs per measurement (default 1000 for the MLPs, 100 add_chain, 20 gemm_4096,
//                  500 train_step)
//   --repeats R    measurements per workload (default 7)
//   --only a,b     a subset of mlp_b1, mlp_b256, add_chain, add_chain_unfused, gemm_4096,
//                  train_step
//   --tf32         GpuOptions::allow_tf32 (and TF32 for the cuBLAS reference)
//   --inter-op N   SessionOptions::inter_op_threads (default 0: one per core)
//   --no-fuse      SessionOptions::gpu_fuse_elementwise off (chains of elementwise ops are
//                  fused into one kernel by default)
//   --no-graph-capture  SessionOptions::gpu_graph_capture off (CUDA-graph replay is on by
//                  default): every step launches kernel by kernel
//   --cpu          the same workloads on CPU-only sessions, lines "cpu <workload> ...", no
//                  cuBLAS: a smoke test of the bench itself on a machine without a GPU
// Without a GPU it prints "gpu_bench: no GPU" and exits 0. Any error is printed, exit 1; a
// result that disagrees with its reference is printed with check=MISMATCH, exit 1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "builder/ops.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "runtime/tensor.h"
#include "tools/seed_model.h"

#ifdef WEIR_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "runtime/gpu/cuda_status.h"
#endif  // WEIR_HAVE_CUDA

namespace weir {
namespace {

constexpr const char* kWorkloads[] = {"mlp_b1",    "mlp_b256",  "add_chain", "add_chain_unfused",
                                      "gemm_4096", "train_step"};

struct Flags {
  int runs = 0;  // 0: each workload's default
  int repeats = 7;
  bool tf32 = false;
  int inter_op = 0;
  bool graph_capture = true;  // SessionOptions::gpu_graph_capture
  bool fuse = true;           // SessionOptions::gpu_fuse_elementwise
  // Smoke test of the bench itself: CPU-only sessions, lines start with "cpu", no cuBLAS.
  bool cpu = false;
  std::set<std::string> only;
};

// Summary of `repeats` measurements, each the mean microseconds per call of a batch of calls.
struct Timing {
  double median_us = 0;
  double min_us = 0;
  double max_us = 0;
};

Timing Summarize(std::vector<double> per_call_us) {
  std::sort(per_call_us.begin(), per_call_us.end());
  Timing t;
  const size_t n = per_call_us.size();
  t.median_us = n % 2 == 1 ? per_call_us[n / 2]
                           : 0.5 * (per_call_us[n / 2 - 1] + per_call_us[n / 2]);
  t.min_us = per_call_us.front();
  t.max_us = per_call_us.back();
  return t;
}

std::string Fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::vector<float> RandomFloats(size_t n, float limit, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-limit, limit);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A session on `def`, with the bench's options; `placement` (if not null) collects the
// placement log lines of every plan compiled.
absl::StatusOr<std::unique_ptr<Session>> MakeSession(const GraphDef& def, const Flags& flags,
                                                     bool use_gpu,
                                                     std::vector<std::string>* placement) {
  SessionOptions options;
  options.num_gpu_devices = use_gpu && !flags.cpu ? -1 : 0;
  options.gpu_options.allow_tf32 = flags.tf32;
  options.inter_op_threads = flags.inter_op;
  options.gpu_graph_capture = flags.graph_capture;
  options.gpu_fuse_elementwise = flags.fuse;
  if (placement != nullptr) {
    options.placement_log = [placement](const std::string& line) { placement->push_back(line); };
  }
  return Session::Create(def, options);
}

// A session on the graph built in `scope`.
absl::StatusOr<std::unique_ptr<Session>> MakeSession(const Scope& scope, const Flags& flags,
                                                     bool use_gpu,
                                                     std::vector<std::string>* placement) {
  GraphDef def;
  if (absl::Status s = scope.ToGraphDef(&def); !s.ok()) return s;
  return MakeSession(def, flags, use_gpu, placement);
}

// "gpu_nodes=G/N", "cuda_graphs=K" (graphs the session captured and replays: 0 means every
// step launched kernel by kernel), "direct=D" (plans whose GPU partition the calling thread
// runs straight from the feeds, with no CPU partition around it) and, when real ops landed on the CPU, "cpu_ops=A,B". Not
// counted as real:
// plumbing (_Arg, _Retval, Placeholder, Const, NoOp) and what stays on the CPU by design in a
// training step (resource variables and their optimizer updates have no GPU kernels).
std::string PlacementFields(const std::vector<std::string>& lines, const Session* session) {
  int gpu = 0;
  std::set<std::string> cpu_ops;
  for (const std::string& line : lines) {
    if (line.find("/device:GPU:") != std::string::npos) {
      ++gpu;
      continue;
    }
    const size_t open = line.find(": (");
    const size_t close = line.find("):", open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string op = line.substr(open + 3, close - open - 3);
    static const std::set<std::string> kNotReal = {
        "Placeholder", "Const", "NoOp", "VarHandleOp", "ReadVariableOp", "AssignVariableOp",
        "AssignAddVariableOp", "AssignSubVariableOp"};
    const bool plumbing = op.empty() || (op[0] == '_' && op.rfind("_Fused", 0) != 0) ||
                          kNotReal.count(op) != 0 || op.rfind("ResourceApply", 0) == 0;
    if (!plumbing) cpu_ops.insert(op);
  }
  std::string out = absl::StrCat("gpu_nodes=", gpu, "/", lines.size(),
                                 " cuda_graphs=", session->num_gpu_graphs(),
                                 " direct=", session->num_direct_gpu_plans());
  if (!cpu_ops.empty()) absl::StrAppend(&out, " cpu_ops=", absl::StrJoin(cpu_ops, ","));
  return out;
}

// Steady-state timing of session->Run with fixed feeds, fetches and targets: the first Run's
// milliseconds in *first_run_ms, then `warmup` Runs, then `repeats` batches of `runs` Runs.
absl::StatusOr<Timing> TimeRuns(Session* session,
                                const std::vector<std::pair<std::string, Tensor>>& feeds,
                                const std::vector<std::string>& fetches, int runs, int repeats,
                                double* first_run_ms, std::vector<Tensor>* outputs,
                                const std::vector<std::string>& targets = {}) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point first = Clock::now();
  if (absl::Status s = session->Run(feeds, fetches, targets, outputs); !s.ok()) return s;
  *first_run_ms = std::chrono::duration<double, std::milli>(Clock::now() - first).count();
  const int warmup = std::max(3, runs / 10);
  for (int i = 0; i < warmup; ++i) {
    if (absl::Status s = session->Run(feeds, fetches, targets, outputs); !s.ok()) return s;
  }
  std::vector<double> per_run_us;
  for (int r = 0; r < repeats; ++r) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < runs; ++i) {
      if (absl::Status s = session->Run(feeds, fetches, targets, outputs); !s.ok()) return s;
    }
    per_run_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count() / runs);
  }
  return Summarize(std::move(per_run_us));
}

// max |got - want| / max |want| (1 when the shapes differ).
double MaxRelError(const Tensor& got, const Tensor& want) {
  if (!(got.shape() == want.shape()) || got.dtype() != DT_FLOAT || want.dtype() != DT_FLOAT) {
    return 1.0;
  }
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double a = got.data<float>()[i], b = want.data<float>()[i];
    if (std::isnan(a) != std::isnan(b)) return 1.0;
    max_diff = std::max(max_diff, std::abs(a - b));
    max_ref = std::max(max_ref, std::abs(b));
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

// Relative tolerance of a float32 result against its reference: TF32 keeps 10 mantissa bits.
double Tolerance(const Flags& flags) { return flags.tf32 ? 2e-2 : 1e-4; }

const char* Prefix(const Flags& flags) { return flags.cpu ? "cpu" : "gpu"; }

// The session settings every line ends with.
std::string SettingsFields(const Flags& flags) {
  return absl::StrCat("tf32=", flags.tf32 ? 1 : 0, " graph_capture=", flags.graph_capture ? 1 : 0,
                      " fuse=", flags.fuse ? 1 : 0, " inter_op=", flags.inter_op);
}

std::string CheckField(double err, const Flags& flags, bool* mismatch) {
  const bool ok = err <= Tolerance(flags);
  if (!ok) *mismatch = true;
  return absl::StrCat("max_rel_err=", absl::StrFormat("%.2e", err), " check=",
                      ok ? "ok" : "MISMATCH");
}

// ---------------------------------------------------------------------------------------------

absl::Status RunMlp(int batch, const Flags& flags, bool* mismatch) {
  const std::string name = absl::StrCat("mlp_b", batch);
  const double target_us = batch == 1 ? 22 : 46;
  Scope s = Scope::NewRootScope();
  const int64_t dims[] = {784, 512, 512, 10};
  Output h = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {batch, 784});
  for (int layer = 0; layer < 3; ++layer) {
    const int64_t in = dims[layer], out = dims[layer + 1];
    const float limit = std::sqrt(6.0f / static_cast<float>(in));
    Output w = ops::Const(s.WithOpName(absl::StrCat("w", layer)),
                          RandomFloats(in * out, limit, 100 + layer), TensorShape({in, out}));
    Output b = ops::Const(s.WithOpName(absl::StrCat("b", layer)),
                          RandomFloats(out, 0.1f, 200 + layer), TensorShape({out}));
    Output mm = ops::MatMul(s.WithOpName(absl::StrCat("matmul", layer)), h, w);
    const std::string bias_name = layer == 2 ? "logits" : absl::StrCat("bias_add", layer);
    h = ops::BiasAdd(s.WithOpName(bias_name), mm, b);
    if (layer < 2) h = ops::Relu(s.WithOpName(absl::StrCat("relu", layer)), h);
  }
  if (!s.ok()) return s.status();

  std::vector<std::string> placement;
  absl::StatusOr<std::unique_ptr<Session>> gpu = MakeSession(s, flags, true, &placement);
  if (!gpu.ok()) return gpu.status();
  absl::StatusOr<std::unique_ptr<Session>> cpu = MakeSession(s, flags, false, nullptr);
  if (!cpu.ok()) return cpu.status();

  Tensor x = Tensor::FromVector<float>(RandomFloats(int64_t{batch} * 784, 1.0f, 7),
                                       TensorShape({batch, 784}));
  const std::vector<std::pair<std::string, Tensor>> feeds = {{"x", x}};
  const std::vector<std::string> fetches = {"logits"};
  std::vector<Tensor> want;
  if (absl::Status st = (*cpu)->Run(feeds, fetches, {}, &want); !st.ok()) return st;
  cpu->reset();

  const int runs = flags.runs > 0 ? flags.runs : 1000;
  double first_run_ms = 0;
  std::vector<Tensor> got;
  absl::StatusOr<Timing> t =
      TimeRuns(gpu->get(), feeds, fetches, runs, flags.repeats, &first_run_ms, &got);
  if (!t.ok()) return t.status();
  std::printf("%s %s median_us=%s target_us=%s vs_target=%s min_us=%s max_us=%s runs=%d "
              "repeats=%d first_run_ms=%s %s %s %s\n",
              Prefix(flags), name.c_str(), Fmt(t->median_us).c_str(), Fmt(target_us, 0).c_str(),
              Fmt(t->median_us / target_us).c_str(), Fmt(t->min_us).c_str(),
              Fmt(t->max_us).c_str(), runs, flags.repeats, Fmt(first_run_ms, 1).c_str(),
              PlacementFields(placement, gpu->get()).c_str(),
              CheckField(MaxRelError(got.at(0), want.at(0)), flags, mismatch).c_str(),
              SettingsFields(flags).c_str());
  return absl::OkStatus();
}

// `name` is add_chain (the session's options) or add_chain_unfused (elementwise fusion off: one
// kernel per Add, what CUDA-graph replay alone gives).
absl::Status RunAddChain(const Flags& session_flags, const char* name, bool* mismatch) {
  Flags flags = session_flags;
  if (std::string(name) == "add_chain_unfused") flags.fuse = false;
  constexpr int kOps = 2000;
  constexpr double kTargetUsPerOp = 1.19;
  constexpr float kStep = 0.5f;  // exact in float: the chain's result is exact too
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {16});
  Output c = ops::Const(s.WithOpName("c"), std::vector<float>(16, kStep), TensorShape({16}));
  for (int i = 0; i < kOps; ++i) {
    x = ops::AddV2(s.WithOpName(i + 1 == kOps ? "y" : absl::StrCat("add", i)), x, c);
  }
  if (!s.ok()) return s.status();
  std::vector<std::string> placement;
  absl::StatusOr<std::unique_ptr<Session>> session = MakeSession(s, flags, true, &placement);
  if (!session.ok()) return session.status();

  std::vector<float> x0(16);
  for (int i = 0; i < 16; ++i) x0[i] = 0.25f * static_cast<float>(i);
  std::vector<float> expected(16);
  for (int i = 0; i < 16; ++i) expected[i] = x0[i] + kOps * kStep;
  const std::vector<std::pair<std::string, Tensor>> feeds = {
      {"x", Tensor::FromVector<float>(x0, TensorShape({16}))}};
  const std::vector<std::string> fetches = {"y"};

  const int runs = flags.runs > 0 ? flags.runs : 100;
  double first_run_ms = 0;
  std::vector<Tensor> got;
  absl::StatusOr<Timing> t =
      TimeRuns(session->get(), feeds, fetches, runs, flags.repeats, &first_run_ms, &got);
  if (!t.ok()) return t.status();
  const double err =
      MaxRelError(got.at(0), Tensor::FromVector<float>(expected, TensorShape({16})));
  std::printf("%s %s median_us=%s us_per_op=%s target_us_per_op=%s vs_target=%s "
              "min_us=%s max_us=%s ops=%d runs=%d repeats=%d first_run_ms=%s %s %s %s\n",
              Prefix(flags), name, Fmt(t->median_us).c_str(), Fmt(t->median_us / kOps, 3).c_str(),
              Fmt(kTargetUsPerOp).c_str(), Fmt(t->median_us / kOps / kTargetUsPerOp).c_str(),
              Fmt(t->min_us).c_str(), Fmt(t->max_us).c_str(), kOps, runs, flags.repeats,
              Fmt(first_run_ms, 1).c_str(), PlacementFields(placement, session->get()).c_str(),
              CheckField(err, flags, mismatch).c_str(), SettingsFields(flags).c_str());
  return absl::OkStatus();
}

// The seed model's training step: see the file comment. The check comes first, on fresh
// variables (the initializer's random ops draw new values on every run, so the two sessions
// agree only on their first init); the timed steps then go on training the same batch.
absl::Status RunTrainStep(const Flags& flags, bool* mismatch) {
  constexpr double kTargetUs = 200;
  constexpr int64_t kBatch = 128;
  constexpr int kCheckSteps = 5;
  seed_model::Options model;
  model.batch_size = kBatch;
  model.seed = 42;
  absl::StatusOr<GraphDef> def = seed_model::Build(model);
  if (!def.ok()) return def.status();
  std::vector<std::string> placement;
  absl::StatusOr<std::unique_ptr<Session>> gpu = MakeSession(*def, flags, true, &placement);
  if (!gpu.ok()) return gpu.status();
  absl::StatusOr<std::unique_ptr<Session>> cpu = MakeSession(*def, flags, false, nullptr);
  if (!cpu.ok()) return cpu.status();

  // Pixels in [0, 1) (RandomFloats draws in [-0.5, 0.5)), labels in [0, 10).
  Tensor x = Tensor::FromVector<float>(RandomFloats(kBatch * 784, 0.5f, 21),
                                       TensorShape({kBatch, 784}));
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] += 0.5f;
  Tensor labels(DT_INT32, TensorShape({kBatch}));
  std::mt19937 rng(22);
  for (int64_t i = 0; i < kBatch; ++i) {
    labels.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
  }
  const std::vector<std::pair<std::string, Tensor>> feeds = {{seed_model::kInput, x},
                                                             {seed_model::kLabels, labels}};
  const std::vector<std::string> fetches = {seed_model::kLoss};
  const std::vector<std::string> targets = {seed_model::kTrainOp};

  // The check: both sessions from their first init, the same steps; the largest relative
  // difference of the losses. The GPU session's first step compiles the step's plan.
  std::vector<Tensor> out;
  for (Session* session : {gpu->get(), cpu->get()}) {
    if (absl::Status st = session->Run({}, {}, {seed_model::kInit}, &out); !st.ok()) return st;
  }
  placement.clear();  // keep the step's placement only
  using Clock = std::chrono::steady_clock;
  double first_run_ms = 0;
  double err = 0;
  for (int step = 0; step < kCheckSteps; ++step) {
    const Clock::time_point start = Clock::now();
    if (absl::Status st = (*gpu)->Run(feeds, fetches, targets, &out); !st.ok()) return st;
    if (step == 0) {
      first_run_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    std::vector<Tensor> want;
    if (absl::Status st = (*cpu)->Run(feeds, fetches, targets, &want); !st.ok()) return st;
    err = std::max(err, MaxRelError(out.at(0), want.at(0)));
  }
  cpu->reset();

  const int runs = flags.runs > 0 ? flags.runs : 500;
  double unused_first_ms = 0;
  absl::StatusOr<Timing> t = TimeRuns(gpu->get(), feeds, fetches, runs, flags.repeats,
                                      &unused_first_ms, &out, targets);
  if (!t.ok()) return t.status();
  std::printf("%s train_step median_us=%s target_us=%s vs_target=%s min_us=%s max_us=%s "
              "runs=%d repeats=%d first_run_ms=%s batch=%d %s %s %s\n",
              Prefix(flags), Fmt(t->median_us).c_str(), Fmt(kTargetUs, 0).c_str(),
              Fmt(t->median_us / kTargetUs).c_str(), Fmt(t->min_us).c_str(),
              Fmt(t->max_us).c_str(), runs, flags.repeats, Fmt(first_run_ms, 1).c_str(),
              static_cast<int>(kBatch), PlacementFields(placement, gpu->get()).c_str(),
              CheckField(err, flags, mismatch).c_str(), SettingsFields(flags).c_str());
  return absl::OkStatus();
}

#ifdef WEIR_HAVE_CUDA
// cublasSgemm on row-major A [n,n] x B [n,n] (as column-major B^T A^T), timed with one cudaEvent
// pair around each batch of `runs` back-to-back calls; microseconds per call of each batch.
class CublasReference {
 public:
  ~CublasReference() {
    if (handle_ != nullptr) cublasDestroy(handle_);
    if (start_ != nullptr) cudaEventDestroy(start_);
    if (stop_ != nullptr) cudaEventDestroy(stop_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    for (float* p : {a_, b_, c_}) {
      if (p != nullptr) cudaFree(p);
    }
  }

  absl::Status Init(int n, const std::vector<float>& a, const std::vector<float>& b, bool tf32) {
    n_ = n;
    const size_t bytes = sizeof(float) * n * n;
    if (auto s = CudaStatus(cudaSetDevice(0), "cudaSetDevice"); !s.ok()) return s;
    for (float** p : {&a_, &b_, &c_}) {
      if (auto s = CudaStatus(cudaMalloc(reinterpret_cast<void**>(p), bytes), "cudaMalloc");
          !s.ok()) {
        return s;
      }
    }
    if (auto s = CudaStatus(cudaMemcpy(a_, a.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
        !s.ok()) {
      return s;
    }
    if (auto s = CudaStatus(cudaMemcpy(b_, b.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
        !s.ok()) {
      return s;
    }
    if (auto s = CudaStatus(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking),
                            "cudaStreamCreateWithFlags");
        !s.ok()) {
      return s;
    }
    if (auto s = CudaStatus(cudaEventCreate(&start_), "cudaEventCreate"); !s.ok()) return s;
    if (auto s = CudaStatus(cudaEventCreate(&stop_), "cudaEventCreate"); !s.ok()) return s;
    if (auto s = CublasStatus(cublasCreate(&handle_), "cublasCreate"); !s.ok()) return s;
    if (auto s = CublasStatus(cublasSetStream(handle_, stream_), "cublasSetStream"); !s.ok()) {
      return s;
    }
    return CublasStatus(
        cublasSetMathMode(handle_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
        "cublasSetMathMode");
  }

  absl::Status Launch() {
    const float alpha = 1.0f, beta = 0.0f;
    return CublasStatus(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, n_, n_, n_, &alpha, b_,
                                    n_, a_, n_, &beta, c_, n_),
                        "cublasSgemm");
  }

  // Mean microseconds per call over `runs` calls.
  absl::StatusOr<double> TimeBatch(int runs) {
    if (auto s = CudaStatus(cudaEventRecord(start_, stream_), "cudaEventRecord"); !s.ok()) {
      return s;
    }
    for (int i = 0; i < runs; ++i) {
      if (absl::Status s = Launch(); !s.ok()) return s;
    }
    if (auto s = CudaStatus(cudaEventRecord(stop_, stream_), "cudaEventRecord"); !s.ok()) {
      return s;
    }
    if (auto s = CudaStatus(cudaEventSynchronize(stop_), "cudaEventSynchronize"); !s.ok()) {
      return s;
    }
    float ms = 0;
    if (auto s = CudaStatus(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
        !s.ok()) {
      return s;
    }
    return 1e3 * ms / runs;
  }

  // c[0][0] of the row-major product.
  absl::StatusOr<float> FirstElement() {
    if (auto s = CudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); !s.ok()) {
      return s;
    }
    float v = 0;
    if (auto s = CudaStatus(cudaMemcpy(&v, c_, sizeof(float), cudaMemcpyDeviceToHost),
                            "cudaMemcpy");
        !s.ok()) {
      return s;
    }
    return v;
  }

 private:
  int n_ = 0;
  float* a_ = nullptr;
  float* b_ = nullptr;
  float* c_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};
#endif  // WEIR_HAVE_CUDA

absl::Status RunGemm(const Flags& flags, bool* mismatch) {
  constexpr int kN = 4096;
  constexpr double kTargetRatio = 0.95;
  const std::vector<float> a = RandomFloats(size_t{kN} * kN, 1.0f, 11);
  const std::vector<float> b = RandomFloats(size_t{kN} * kN, 1.0f, 12);
  Scope s = Scope::NewRootScope();
  Output ca = ops::Const(s.WithOpName("a"), a, TensorShape({kN, kN}));
  Output cb = ops::Const(s.WithOpName("b"), b, TensorShape({kN, kN}));
  Output product = ops::MatMul(s.WithOpName("product"), ca, cb);
  Output begin = ops::Const(s.WithOpName("begin"), std::vector<int32_t>{0, 0}, TensorShape({2}));
  Output size = ops::Const(s.WithOpName("size"), std::vector<int32_t>{1, 1}, TensorShape({2}));
  ops::Slice(s.WithOpName("corner"), product, begin, size);
  if (!s.ok()) return s.status();
  std::vector<std::string> placement;
  absl::StatusOr<std::unique_ptr<Session>> session = MakeSession(s, flags, true, &placement);
  if (!session.ok()) return session.status();

  // The expected corner: row 0 of A times column 0 of B, in double.
  double want = 0;
  double ref_abs = 0;  // scale for the error: the dot product of magnitudes
  for (size_t k = 0; k < kN; ++k) {
    const double term = double{a[k]} * double{b[k * kN]};
    want += term;
    ref_abs += std::abs(term);
  }

  const int runs = flags.runs > 0 ? flags.runs : 20;
  const std::vector<std::pair<std::string, Tensor>> feeds;
  const std::vector<std::string> fetches = {"corner"};
  double first_run_ms = 0;
  std::vector<Tensor> got;
  // Compile and warm up the session (TimeRuns with one repeat), then alternate a batch of
  // session Runs with a batch of cublasSgemm calls, so both see the same clocks and neighbours.
  absl::StatusOr<Timing> warm =
      TimeRuns(session->get(), feeds, fetches, runs, 1, &first_run_ms, &got);
  if (!warm.ok()) return warm.status();
  const double err = std::abs(double{got.at(0).data<float>()[0]} - want) / ref_abs;

  std::string cublas_fields = "cublas=unavailable";
  std::vector<double> weir_us, cublas_us;
#ifdef WEIR_HAVE_CUDA
  CublasReference cublas;
  double cublas_err = 0;
  if (!flags.cpu) {
    if (absl::Status st = cublas.Init(kN, a, b, flags.tf32); !st.ok()) return st;
    for (int i = 0; i < 3; ++i) {
      if (absl::Status st = cublas.Launch(); !st.ok()) return st;
    }
    absl::StatusOr<float> cublas_corner = cublas.FirstElement();
    if (!cublas_corner.ok()) return cublas_corner.status();
    cublas_err = std::abs(double{*cublas_corner} - want) / ref_abs;
  }
#endif  // WEIR_HAVE_CUDA
  using Clock = std::chrono::steady_clock;
  for (int r = 0; r < flags.repeats; ++r) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < runs; ++i) {
      if (absl::Status st = (*session)->Run(feeds, fetches, {}, &got); !st.ok()) return st;
    }
    weir_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                      runs);
#ifdef WEIR_HAVE_CUDA
    if (!flags.cpu) {
      absl::StatusOr<double> us = cublas.TimeBatch(runs);
      if (!us.ok()) return us.status();
      cublas_us.push_back(*us);
    }
#endif  // WEIR_HAVE_CUDA
  }
  const double flops = 2.0 * kN * kN * kN;
  const Timing t = Summarize(weir_us);
  const double tflops = flops / (t.median_us * 1e-6) / 1e12;
  std::string ratio_field;
  if (!cublas_us.empty()) {
    const Timing c = Summarize(cublas_us);
    const double cublas_tflops = flops / (c.median_us * 1e-6) / 1e12;
    cublas_fields = absl::StrCat("cublas_us=", Fmt(c.median_us), " cublas_tflops=",
                                 Fmt(cublas_tflops), " ratio=", Fmt(tflops / cublas_tflops, 3),
                                 " target_ratio=", Fmt(kTargetRatio));
#ifdef WEIR_HAVE_CUDA
    absl::StrAppend(&cublas_fields, " cublas_rel_err=", absl::StrFormat("%.2e", cublas_err));
#endif  // WEIR_HAVE_CUDA
  }
  std::printf("%s gemm_4096 median_us=%s tflops=%s %s min_us=%s max_us=%s runs=%d "
              "repeats=%d first_run_ms=%s %s %s %s\n",
              Prefix(flags), Fmt(t.median_us).c_str(), Fmt(tflops).c_str(), cublas_fields.c_str(),
              Fmt(t.min_us).c_str(), Fmt(t.max_us).c_str(), runs, flags.repeats,
              Fmt(first_run_ms, 1).c_str(), PlacementFields(placement, session->get()).c_str(),
              CheckField(err, flags, mismatch).c_str(), SettingsFields(flags).c_str());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------

int Usage() {
  std::fprintf(stderr,
               "usage: gpu_bench [--runs N] [--repeats R] [--only %s] [--tf32] "
               "[--inter-op N] [--no-graph-capture] [--no-fuse] [--cpu]\n",
               absl::StrJoin(kWorkloads, ",").c_str());
  return 2;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runs" && has_value) {
      flags.runs = std::atoi(argv[++i]);
      if (flags.runs < 1) return Usage();
    } else if (arg == "--repeats" && has_value) {
      flags.repeats = std::atoi(argv[++i]);
      if (flags.repeats < 1) return Usage();
    } else if (arg == "--inter-op" && has_value) {
      flags.inter_op = std::atoi(argv[++i]);
      if (flags.inter_op < 0) return Usage();
    } else if (arg == "--only" && has_value) {
      for (absl::string_view name : absl::StrSplit(argv[++i], ',', absl::SkipEmpty())) {
        if (std::find(std::begin(kWorkloads), std::end(kWorkloads), name) ==
            std::end(kWorkloads)) {
          std::fprintf(stderr, "gpu_bench: unknown workload '%s'\n", std::string(name).c_str());
          return Usage();
        }
        flags.only.insert(std::string(name));
      }
    } else if (arg == "--tf32") {
      flags.tf32 = true;
    } else if (arg == "--no-fuse") {
      flags.fuse = false;
    } else if (arg == "--no-graph-capture") {
      flags.graph_capture = false;
    } else if (arg == "--cpu") {
      flags.cpu = true;
    } else {
      return Usage();
    }
  }

  if (flags.cpu) {
    std::printf("device: CPU only (--cpu: a smoke test of the bench, no GPU numbers)\n");
  } else if (GpuDeviceCount() == 0) {
    std::printf("gpu_bench: no GPU\n");
    return 0;
  }
  // A trivial session tells whether the session really opened the GPU, and what it is.
  if (!flags.cpu) {
    Scope s = Scope::NewRootScope();
    ops::Const(s.WithOpName("probe"), 1.0f);
    absl::StatusOr<std::unique_ptr<Session>> probe = MakeSession(s, flags, true, nullptr);
    if (!probe.ok()) {
      std::fprintf(stderr, "gpu_bench: %s\n", probe.status().ToString().c_str());
      return 1;
    }
    if ((*probe)->gpu_device() == nullptr) {
      std::printf("gpu_bench: no GPU\n");
      return 0;
    }
    std::printf("device: %s\n", (*probe)->gpu_device()->description().c_str());
    std::fflush(stdout);
  }

  const std::vector<std::pair<std::string, std::function<absl::Status(bool*)>>> workloads = {
      {"mlp_b1", [&](bool* m) { return RunMlp(1, flags, m); }},
      {"mlp_b256", [&](bool* m) { return RunMlp(256, flags, m); }},
      {"add_chain", [&](bool* m) { return RunAddChain(flags, "add_chain", m); }},
      {"add_chain_unfused", [&](bool* m) { return RunAddChain(flags, "add_chain_unfused", m); }},
      {"gemm_4096", [&](bool* m) { return RunGemm(flags, m); }},
      {"train_step", [&](bool* m) { return RunTrainStep(flags, m); }},
  };
  bool mismatch = false;
  for (const auto& [name, run] : workloads) {
    if (!flags.only.empty() && flags.only.count(name) == 0) continue;
    if (absl::Status s = run(&mismatch); !s.ok()) {
      std::fprintf(stderr, "gpu_bench: %s: %s\n", name.c_str(), s.ToString().c_str());
      return 1;
    }
    std::fflush(stdout);
  }
  if (mismatch) {
    std::fprintf(stderr, "gpu_bench: a result disagreed with its reference (check=MISMATCH)\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace weir

int main(int argc, char** argv) { return weir::Main(argc, argv); }
