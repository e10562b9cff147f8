// executor.h - Runs a compiled graph on one device by data dependency.
//
// Built once per plan: kernels are instantiated, and per node the executor records where its
// inputs live in a flat per-step slot array, its out edges and its initial pending count.
// A step copies the pending counts, starts the nodes with none pending, and as each node
// completes forwards its outputs to its consumers' slots and decrements their counts; a node
// whose count hits zero is ready. Cheap kernels run inline on the thread that readied them;
// when several expensive kernels become ready at once, all but one go to the inter-op pool.
//
// Every step has its own state (pending counts, slots, dead flags), so concurrent steps on one
// executor are safe. States are pooled: Create builds one, a step takes a free one (building
// another only when more steps run at once than ever before) and gives it back clean, so a
// steady-state step allocates nothing. The nodes a thread has readied wait on a per-thread
// stack that keeps its capacity; pool tasks are {state, node} pairs stored inline in the
// pool's ring buffer. A step with no inter-op pool and no asynchronous kernel runs on one
// thread from start to end: it updates pending counts with plain loads and stores instead of
// atomic read-modify-writes and never waits on a lock.
//
// Conditionals (TensorFlow 1.x Switch/Merge): a Switch leaves its untaken output unset, which
// makes that output *dead*. A dead flag travels beside each input slot; a node with a dead data
// or control input does not compute and marks all its outputs dead, except Merge, which fires
// on its first live input (passing only that one to its kernel) or, when every input is dead,
// is dead itself. A fetch of a dead tensor is an error naming it.
//
// Loops (TensorFlow 1.x while_loop): every node belongs to a static frame, found at Create by
// following edges from the graph's sources: Enter's output enters the child frame named by
// its frame_name, Exit's output returns to the parent, everything else stays in its input's
// frame. At run time each (frame instance, iteration) owns its pending counts, dead flags and
// input slots. Enter delivers to iteration 0 of the child frame instance for the current
// (frame, iteration) -- or, with is_constant, to every iteration, present and future.
// NextIteration delivers to iteration + 1, starting it if needed; at most
// parallel_iterations iterations are alive at once, and a NextIteration beyond that waits
// until the oldest iteration finishes. A dead NextIteration ends its loop variable's chain (so
// the loop stops), a live Exit delivers to the parent at once, and an Exit dead in the last
// iteration (a loop entered dead) delivers deadness when the frame finishes. A loop Merge
// fires on its first live input; in iteration 0 it fires dead when every entry input arrived
// dead. A graph without Enter runs the per-node path above and pays nothing for frames.
#ifndef WEIR_RUNTIME_EXECUTOR_H_
#define WEIR_RUNTIME_EXECUTOR_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "graph/graph.h"
#include "runtime/device.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/step_stats.h"
#include "runtime/thread_pool.h"

namespace weir {

class Executor {
 public:
  struct StepArgs {
    CallFrame* frame = nullptr;
    // Inter-op pool; nullptr runs every node on the calling thread.
    ThreadPool* pool = nullptr;
    // Set from another thread to stop the step with Cancelled.
    const std::atomic<bool>* cancelled = nullptr;
    // Set when the owning session closes; also stops the step with Cancelled.
    const std::atomic<bool>* session_closing = nullptr;
    absl::Time deadline = absl::InfiniteFuture();
    // When set, every computed node records its timings and outputs here.
    StepStatsCollector* stats = nullptr;
  };

  // Instantiates a kernel for every node of `graph` on `device`. Errors name the node whose
  // kernel is missing or could not be created.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(std::unique_ptr<Graph> graph,
                                                          Device* device,
                                                          const KernelRegistry& registry);
  ~Executor();

  // Runs one step. The first failing kernel's status (prefixed with its node) is returned;
  // nodes not yet started are skipped.
  absl::Status Run(const StepArgs& args) const;

  const Graph& graph() const { return *graph_; }
  int num_nodes() const { return static_cast<int>(items_.size()); }

 private:
  struct OutEdge {
    int dst;        // item index
    int src_output;  // kControlSlot for control edges
    int dst_slot;    // index into the step's input slots; -1 for control edges
    // The last data edge reading src_output: the tensor moves instead of being copied.
    bool last_use = false;
  };
  struct NodeItem {
    Node* node = nullptr;
    std::unique_ptr<OpKernel> kernel;
    int input_start = 0;
    int output_start = 0;
    int num_inputs = 0;
    int num_outputs = 0;
    int initial_pending = 0;
    bool expensive = true;
    bool async = false;  // an AsyncOpKernel: completes through a callback
    bool is_merge = false;
    // Merge: the start of its private input array in the step state (the live input only).
    int merge_scratch_start = -1;
    // Asynchronous kernels: the index of the node's context in the step state.
    int async_index = -1;
    // Switch may leave outputs unset: those are dead, not an error.
    bool unset_outputs_are_dead = false;
    std::vector<OutEdge> out_edges;
    // Loops only (has_loops_): the frame the node runs in, its index among that frame's
    // nodes and the start of its input slots in that frame's per-iteration slot array.
    int frame = 0;
    int local_id = 0;
    int local_input_start = 0;
    bool is_enter = false;
    bool is_constant_enter = false;
    bool is_exit = false;
    bool is_next_iteration = false;
    int child_frame = -1;  // Enter: the frame its output enters
  };
  // A while loop's static frame; frame 0 is the root (the graph outside every loop).
  struct FrameInfo {
    std::string name;
    int parent = -1;
    int parallel_iterations = 1;
    int num_nodes = 0;
    int num_input_slots = 0;
    int num_enters = 0;  // Enter nodes whose output enters this frame
    // Per local node: the pending count in iteration 0 and in later iterations (they differ
    // only for a loop Merge, whose entry inputs arrive in iteration 0 and back edges after).
    std::vector<int> pending_first;
    std::vector<int> pending_next;
  };
  class StepState;
  class FrameStepState;

  Executor() = default;
  // A free step state (a new one when every pooled state is in use), and back.
  StepState* AcquireState() const;
  void ReleaseState(StepState* state) const;
  // Finds the frames of a graph with loops and checks the loop structure (errors name the
  // node); a graph without loop ops keeps has_loops_ false.
  absl::Status BuildFrames();
  // Runs one step of a graph with loops (executor_frames.cc).
  absl::Status RunWithFrames(const StepArgs& args) const;
  static void RecordNodeStats(StepStatsCollector* collector, const NodeItem& item,
                              const Tensor* outputs, int64_t start_ns, int64_t op_start_ns,
                              int64_t op_end_ns);

  // The learned cost model: each node's kernel time, an exponential moving average of
  // sampled measurements (every step at first, then one step in kSampleEvery). A kernel the
  // hint calls expensive goes to the inter-op pool only while its measured cost is unknown or
  // above kInlineCostNs: below that a pool handoff (a wakeup, a cache miss on the inputs)
  // costs more than the parallelism gains, so tiny graphs run on the calling thread.
  static constexpr int64_t kInlineCostNs = 15000;
  static constexpr uint64_t kMeasureFirstSteps = 8;
  // Whether steps use the inter-op pool at all. From the learned costs: the graph's parallelism
  // (total cost over the cost of its longest path). Below kMinParallelism -- a chain of convs,
  // a transformer layer whose only parallel GEMMs are small -- handing nodes to another thread
  // only adds wakeups, and two threads each running an OpenMP team oversubscribe the cores
  // (BERT b32 at 2 threads ran 1.8 ms against 1.2 ms on one thread with a team of two), so the
  // whole step runs on the calling thread and kernels get the intra-op threads. Graphs with
  // Switch/Merge or asynchronous kernels always may use the pool.
  static constexpr double kMinParallelism = 1.5;
  bool UsesPool() const { return uses_pool_.load(std::memory_order_relaxed); }
  // Recomputes uses_pool_ from cost_ns_ (after a measured step); one thread at a time, no
  // allocation (topo_order_ and path_ns_ are sized at creation).
  void UpdateParallelism() const;
 public:
  // The parallelism found from the learned costs (see kMinParallelism), 0 before any.
  double LearnedParallelism() const;
 private:
  static constexpr uint64_t kSampleEvery = 32;
  bool RunsInline(int k) const {
    if (!items_[k].expensive) return true;
    const int64_t cost = cost_ns_[k].load(std::memory_order_relaxed);
    return cost >= 0 && cost < kInlineCostNs;
  }
  void RecordCost(int k, int64_t ns) const;
 public:
  // The learned cost of node `name` in nanoseconds, or -1 while unmeasured (tests, tools).
  int64_t LearnedCostNs(const std::string& name) const;

 private:
  std::unique_ptr<Graph> graph_;
  Device* device_ = nullptr;
  std::vector<NodeItem> items_;
  mutable std::unique_ptr<std::atomic<int64_t>[]> cost_ns_;
  mutable std::atomic<uint64_t> steps_{0};
  mutable std::atomic<bool> uses_pool_{true};
  // For UpdateParallelism: the items in a topological order (empty when it does not apply),
  // the longest-path scratch, and the last ratio.
  std::vector<int> topo_order_;
  mutable absl::Mutex parallelism_mu_;
  mutable std::vector<int64_t> path_ns_ ABSL_GUARDED_BY(parallelism_mu_);
  mutable double parallelism_ ABSL_GUARDED_BY(parallelism_mu_) = 0;
  std::vector<int> roots_;
  int total_input_slots_ = 0;
  int total_outputs_ = 0;
  // Static facts the step state sizes itself by.
  std::vector<int> merge_items_;
  int merge_scratch_slots_ = 0;
  int num_async_ = 0;
  bool has_switch_ = false;
  // Step states: every one built (owned here) and the free ones. The last one given back
  // waits in `cached_state_`, so one step at a time takes and returns it without the lock.
  mutable std::atomic<StepState*> cached_state_{nullptr};
  mutable absl::Mutex states_mu_;
  mutable std::vector<std::unique_ptr<StepState>> all_states_ ABSL_GUARDED_BY(states_mu_);
  mutable std::vector<StepState*> free_states_ ABSL_GUARDED_BY(states_mu_);
  bool has_loops_ = false;
  std::vector<FrameInfo> frames_;
};

}  // namespace weir

#endif  // WEIR_RUNTIME_EXECUTOR_H_
