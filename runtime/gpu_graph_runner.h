// gpu_graph_runner.h - Runs a plan's GPU partition by replaying a captured CUDA graph.
//
// A GPU partition whose input shapes repeat is the same sequence of launches every step. The
// runner records it once as a CUDA graph and from then on replays it with one launch, instead
// of one host call per kernel and copy:
//
//   step 1 (per input-shape signature): the partition's executor runs as usual (warm-up:
//          cuBLAS plans, lazily loaded kernels and allocator regions are set up outside any
//          capture).
//   step 2: with the GPU to itself (GpuDevice::TryBeginExclusive), the executor runs once more
//          with the compute stream capturing. Its _Recv kernels copy from pinned staging
//          buffers the runner filled, its _Send kernels copy into pinned buffers without
//          waiting, and device memory freed meanwhile stays with the graph. The graph is then
//          launched, and its results are checked against a normal executor run on the same
//          inputs: any difference (or any error while capturing) turns capture off for that
//          signature and the executor's results are used.
//   later: copy each received host tensor into its staging buffer, launch the graph, wait for
//          the stream, copy each result out of its pinned buffer and hand it to the CPU side.
//
// The runner receives the partition's inputs from the step's rendezvous before starting, so it
// only takes partitions whose inputs never depend on their own outputs (a CPU node between two
// GPU segments); Create returns null for the others, which keep the plain executor.
// Steps that replay one graph are serialized (its staging buffers are shared), which the
// single compute stream would do anyway.
//
// Plain inference -- a CPU partition that only hands the feeds over and takes the fetches
// back -- skips even that: the session runs the runner on the calling thread straight from the
// call frame (RunDirect with MatchDirectIo's mapping), with no CPU executor, no rendezvous and
// no hand-over between threads, which on a 22 us step would cost more than the GPU work.
#ifndef WEIR_RUNTIME_GPU_GRAPH_RUNNER_H_
#define WEIR_RUNTIME_GPU_GRAPH_RUNNER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "graph/graph.h"
#include "runtime/executor.h"
#include "runtime/gpu/gpu_device.h"

namespace weir {

class GpuGraphRunner {
 public:
  // Signatures kept per runner; beyond it, new signatures run on the executor.
  static constexpr int kMaxGraphs = 8;

  // A runner for `executor`, the GPU partition of a plan whose other partitions are
  // `cpu_partitions`; null when the partition cannot be replayed (see the header comment).
  static std::unique_ptr<GpuGraphRunner> Create(const Executor* executor, GpuDevice* device,
                                                const std::vector<const Graph*>& cpu_partitions);
  // Whether the GPU partition `gpu_partition` of device `gpu_device_name`, next to
  // `cpu_partitions`, can be replayed: OK, or FailedPrecondition naming the node that prevents
  // it (a CPU _Send to the GPU depending on a _Recv from it; a transfer of strings). Needs no
  // GPU: it only reads the graphs.
  static absl::Status CheckReplayable(const Graph& gpu_partition,
                                      const std::string& gpu_device_name,
                                      const std::vector<const Graph*>& cpu_partitions);
  ~GpuGraphRunner();

  // Runs the partition for one step: `args.frame->rendezvous` is the step's rendezvous.
  absl::Status Run(const Executor::StepArgs& args);

  // A plan whose only other partition hands the feeds to the GPU (_Arg -> _Send) and the
  // results back (_Recv -> _Retval) -- any plain inference -- can skip that partition, its
  // executor, the rendezvous and the hand-over between threads: the calling thread runs the
  // runner on the step's arguments (RunDirect). Where each runner input comes from and where
  // each output goes, as call-frame slots:
  struct DirectIo {
    std::vector<int64_t> input_args;                   // input i = frame->args[input_args[i]]
    std::vector<std::vector<int64_t>> output_retvals;  // output j -> these frame->retvals
    std::vector<std::pair<int64_t, int64_t>> arg_retvals;  // (arg, retval): a feed fetched as is
  };
  // The DirectIo of the CPU partition `cpu_partition` next to a GPU partition whose _Recv keys
  // are `input_keys` and _Send keys `output_keys`; FailedPrecondition naming the node that
  // does more than pass values through (any CPU work, a control edge). Needs no GPU.
  static absl::StatusOr<DirectIo> MatchDirectIo(const Graph& cpu_partition,
                                                const std::vector<std::string>& input_keys,
                                                const std::vector<std::string>& output_keys);
  std::vector<std::string> input_keys() const;
  std::vector<std::string> output_keys() const;
  // One step through `io`, on the calling thread: inputs from args.frame->args, results into
  // args.frame->retvals.
  absl::Status RunDirect(const Executor::StepArgs& args, const DirectIo& io);

  // Graphs captured so far (tests).
  int num_graphs() const;

 private:
  struct Transfer {
    std::string key;
    DataType dtype = DT_INVALID;
  };
  struct Entry;

  GpuGraphRunner(const Executor* executor, GpuDevice* device, std::vector<Transfer> inputs,
                 std::vector<Transfer> outputs)
      : executor_(executor), device_(device), inputs_(std::move(inputs)),
        outputs_(std::move(outputs)) {}

  // The step after its inputs arrived: warm-up, capture and check, or replay.
  absl::Status RunWithInputs(const Executor::StepArgs& args, const std::vector<Tensor>& inputs,
                             std::vector<Tensor>* outputs);
  // Waits for every input of the step (blocking this thread; it runs no pool tasks).
  absl::Status ReceiveInputs(Rendezvous* rendezvous, std::vector<Tensor>* inputs) const;
  // Runs the executor on `inputs` through a private rendezvous; `outputs` gets its results.
  absl::Status RunExecutor(const Executor::StepArgs& args, const std::vector<Tensor>& inputs,
                           std::vector<Tensor>* outputs) const;
  absl::StatusOr<std::unique_ptr<Entry>> Capture(const Executor::StepArgs& args,
                                                 const std::vector<Tensor>& inputs);
  absl::Status Replay(Entry& entry, const std::vector<Tensor>& inputs,
                      std::vector<Tensor>* outputs) const;
  absl::Status SendOutputs(Rendezvous* rendezvous, std::vector<Tensor> outputs) const;

  const Executor* executor_;
  GpuDevice* device_;
  std::vector<Transfer> inputs_;   // the partition's _Recv keys
  std::vector<Transfer> outputs_;  // the partition's _Send keys

  mutable absl::Mutex mu_;
  // Signature (the input shapes) -> 1 once warmed up (the next step captures), -1 when it
  // stays on the executor; and the graph once captured and checked.
  std::map<std::string, int> seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Entry>> graphs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weir

#endif  // WEIR_RUNTIME_GPU_GRAPH_RUNNER_H_
