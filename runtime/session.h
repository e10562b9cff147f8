// session.h - Compile once, run many: a Session owns a validated graph and, per
// (feeds, fetches, targets) signature, a cached executable plan.
//
//   absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(graph_def);
//   std::vector<Tensor> outputs;
//   absl::Status s = (*session)->Run({{"x", x}}, {"probs"}, {}, &outputs);
//
// Run is safe to call from many threads at once. A steady-state Run (a repeated signature with
// fixed shapes) allocates nothing from the system: the last call's resolution, call frames and
// executor step states are reused, and tensors come from the caching allocator. Reuse the
// feeds/fetches vectors and the outputs vector across calls to keep the caller's side
// allocation-free too.
#ifndef WEIR_RUNTIME_SESSION_H_
#define WEIR_RUNTIME_SESSION_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "graph/graph.h"
#include "proto/graph.pb.h"
#include "proto/step_stats.pb.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

namespace weir {

struct SessionOptions {
  // Threads running independent nodes in parallel: 0 = one per core, 1 = every node on the
  // calling thread. The session owns a pool of inter_op_threads - 1 workers (the calling
  // thread is the last one). Ignored when inter_op_pool is set.
  int inter_op_threads = 0;
  // An inter-op pool the caller owns, used instead of a pool of the session's own; many
  // sessions may share one. The session never destroys it. Lifetime rule: the pool must
  // outlive every session using it -- destroy (or Close) the sessions first, then the pool.
  // The thread calling Run still runs nodes too, so a pool of N workers gives a step N + 1.
  ThreadPool* inter_op_pool = nullptr;
  // Threads one kernel may use (oneDNN); 0 = one per core.
  int intra_op_threads = 0;
  // Compiler optimization level, 0-3 (compiler/pipeline.cc).
  int opt_level = 2;
  // Plans kept per session; the least recently used is dropped beyond this.
  int max_cached_plans = 64;
  // A node whose requested device is missing or lacks its kernel runs on another device
  // instead of failing the compile (TensorFlow's allow_soft_placement). On by default: no GPU
  // present means CPU only, with no error.
  bool allow_soft_placement = true;
  // CPU devices, /device:CPU:0 .. /device:CPU:<n-1> (TensorFlow's device_count={'CPU': n}).
  // Nodes without a request run on CPU:0; a plan whose nodes are placed on several devices is
  // partitioned, with _Send/_Recv pairs on the edges between them, and runs one executor per
  // device. The CPU devices share host memory, the host allocator, the inter-op pool and the
  // session's variables, so a transfer between them passes the tensor without copying.
  int num_cpu_devices = 1;
  // GPUs to use (TensorFlow's device_count={'GPU': n}): -1 = what CUDA finds, 0 = none. Weir
  // drives one GPU, /device:GPU:0. When it is there, placement prefers it for every node that
  // has a GPU kernel; _Send/_Recv pairs copy tensors between host and device memory at the
  // partition boundaries (feeds and fetches live on the host). No GPU present, or any CUDA
  // error while opening it, means CPU only, with no error.
  int num_gpu_devices = -1;
  // The GPU's memory limit, TF32 and cuBLAS workspace (runtime/gpu/gpu_device.h).
  GpuOptions gpu_options;
  // Replay a plan's GPU partition as a CUDA graph once its input shapes repeat (captured on
  // the second step of a shape signature, checked against the normal run, then one launch
  // per step; runtime/gpu_graph_runner.h). Off: every step launches kernel by kernel.
  bool gpu_graph_capture = true;
  // At opt_level >= 2, chains of float elementwise ops placed on the GPU become one
  // _WeirElementwiseChain node each, one kernel launch for the whole chain
  // (compiler/passes/elementwise_chain.h); results are bit-identical to the ops one by one.
  bool gpu_fuse_elementwise = true;
  // When set, receives one line per node of every plan compiled, TensorFlow's
  // log_device_placement format: "name: (Op): /device:CPU:0". Nodes the GPU's elementwise
  // fusion makes get a line of their own after the placement's lines.
  std::function<void(const std::string& line)> placement_log;
};

struct RunOptions {
  // 0 = no limit. A step past its deadline fails with DeadlineExceeded.
  int64_t timeout_in_ms = 0;
  // When set, storing true (from any thread) stops the step with Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // TensorFlow's TraceLevel: NO_TRACE (0) or any higher level fills RunMetadata.step_stats
  // with one NodeExecStats per computed node.
  enum TraceLevel { kNoTrace = 0, kSoftwareTrace = 1, kHardwareTrace = 2, kFullTrace = 3 };
  int trace_level = kNoTrace;
};

// One compiled signature: the rewritten, pruned, placed graph and its executor.
struct ExecutablePlan;

class Session {
 public:
  // Validates the whole graph (ops, attrs, edges, dtypes, shapes); errors name the node.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const GraphDef& graph,
                                                         const SessionOptions& options = {});
  ~Session();

  // Feeds and fetches are tensor names ("x", "x:0", "split:1"); targets are node names run
  // for their effects. Outputs come back in fetch order.
  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches,
                   const std::vector<std::string>& targets, std::vector<Tensor>* outputs);
  // `metadata` (may be null) receives step stats when run_options.trace_level asks for them.
  absl::Status Run(const RunOptions& run_options,
                   const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches,
                   const std::vector<std::string>& targets, std::vector<Tensor>* outputs,
                   RunMetadata* metadata = nullptr);

  // Cancels running steps, then drops every plan and thread; later Runs fail with
  // FailedPrecondition.
  absl::Status Close();

  // The validated graph with inferred shapes.
  const Graph& graph() const { return *graph_; }
  // The session's variables (training/checkpoint.h saves and restores them). They live until
  // Close.
  ResourceMgr* resource_manager() { return cpu_->resource_manager(); }
  int num_cached_plans() const;
  // The session's GPU, or null when it runs on the CPU only (memory statistics, tests).
  GpuDevice* gpu_device() const { return gpu_.get(); }
  // CUDA graphs captured (and checked) so far over the cached plans (gpu_graph_capture).
  int num_gpu_graphs() const;
  // Cached plans whose GPU partition runs on the calling thread, straight from the call frame
  // (no CPU work around it: GpuGraphRunner::DirectIo).
  int num_direct_gpu_plans() const;

 private:
  Session(std::unique_ptr<Graph> graph, const SessionOptions& options);

  struct ResolvedCall;
  absl::StatusOr<std::shared_ptr<const ResolvedCall>> ResolveCall(
      const std::vector<std::pair<std::string, Tensor>>& feeds,
      const std::vector<std::string>& fetches, const std::vector<std::string>& targets);
  absl::StatusOr<std::shared_ptr<const ExecutablePlan>> GetOrCompilePlan(
      const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
      const std::vector<std::string>& targets);
  absl::StatusOr<std::shared_ptr<const ExecutablePlan>> CompilePlan(
      const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
      const std::vector<std::string>& targets) const;

  std::unique_ptr<Graph> graph_;
  SessionOptions options_;
  std::unique_ptr<CpuDevice> cpu_;
  // /device:CPU:1 .. (SessionOptions::num_cpu_devices), for placement and names: their
  // partitions run with cpu_'s allocator and resources.
  std::vector<std::unique_ptr<CpuDevice>> more_cpus_;
  // /device:GPU:0 when SessionOptions::num_gpu_devices allows it and CUDA finds a usable GPU.
  std::unique_ptr<GpuDevice> gpu_;
  // Shared so a Run that started before Close keeps its pool until it returns. A caller's pool
  // (SessionOptions::inter_op_pool) sits here without ownership.
  std::shared_ptr<ThreadPool> inter_op_pool_ ABSL_GUARDED_BY(mu_);

  // Set by Close; every running step watches it.
  std::atomic<bool> closing_{false};
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Steps running now; Close waits for them before it frees the variables they may touch.
  int active_steps_ ABSL_GUARDED_BY(mu_) = 0;
  // Signature key -> plan, plus a use counter for least-recently-used eviction.
  struct CacheEntry {
    std::shared_ptr<const ExecutablePlan> plan;
    uint64_t last_use = 0;
  };
  std::map<std::string, CacheEntry> plans_ ABSL_GUARDED_BY(mu_);
  // The last call's resolution: a Run with the same names skips canonicalization and the
  // plan-cache key (most callers repeat one signature).
  std::shared_ptr<const ResolvedCall> last_call_ ABSL_GUARDED_BY(mu_);
  uint64_t use_clock_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weir

#endif  // WEIR_RUNTIME_SESSION_H_
