// session.cc - Plan compilation and the Run path.
#include "runtime/session.h"

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/partition.h"
#include "compiler/passes/elementwise_chain.h"
#include "compiler/pipeline.h"
#include "compiler/placement.h"
#include "graph/convert.h"
#include "graph/shape_inference.h"
#include "kernels/registry.h"
#include "runtime/gpu_graph_runner.h"
#include "runtime/rendezvous.h"

namespace weir {

struct ExecutablePlan {
  struct Feed {
    std::string name;  // as the caller spelled it, canonical "node:i"
    DataType dtype;
    PartialShape shape;  // what the graph promises for this tensor
  };
  std::vector<Feed> feeds;  // argument order
  absl::flat_hash_map<std::string, int> feed_index;
  absl::flat_hash_map<std::string, int> fetch_index;  // canonical name -> retval index
  int num_fetches = 0;
  // A plan on one device (the usual case) has one executor and no partitions; a plan placed
  // on several devices has one partition per device and no `executor`.
  std::unique_ptr<Executor> executor;
  struct Partition {
    std::string device;
    std::unique_ptr<Executor> executor;
    // The GPU partition, when CUDA-graph replay applies to it: runs it instead of `executor`.
    std::unique_ptr<GpuGraphRunner> gpu_runner;
  };
  std::vector<Partition> partitions;
  // When the plan is a GPU partition with a CUDA-graph runner plus a CPU partition that only
  // passes feeds and fetches through (GpuGraphRunner::DirectIo): the runner's partition, run
  // on the calling thread straight from the call frame. -1 otherwise.
  int direct_partition = -1;
  GpuGraphRunner::DirectIo direct_io;
  // Set when a partition (or the single executor) runs on the GPU: the step ends by waiting
  // for its compute stream, which also reports errors the kernels raised asynchronously.
  GpuDevice* gpu = nullptr;

  // Call frames of finished steps, sized for this plan and empty, reused by later steps so a
  // Run does not allocate its argument and result vectors.
  std::unique_ptr<CallFrame> AcquireFrame() const {
    {
      absl::MutexLock lock(&frames_mu);
      if (!free_frames.empty()) {
        std::unique_ptr<CallFrame> frame = std::move(free_frames.back());
        free_frames.pop_back();
        return frame;
      }
    }
    auto frame = std::make_unique<CallFrame>();
    frame->args.resize(feeds.size());
    frame->retvals.resize(num_fetches);
    return frame;
  }
  void ReleaseFrame(std::unique_ptr<CallFrame> frame) const {
    for (Tensor& t : frame->args) t = Tensor();
    for (Tensor& t : frame->retvals) t = Tensor();
    absl::MutexLock lock(&frames_mu);
    // Grows only while more steps than ever before run at once.
    free_frames.push_back(std::move(frame));
  }
  mutable absl::Mutex frames_mu;
  mutable std::vector<std::unique_ptr<CallFrame>> free_frames ABSL_GUARDED_BY(frames_mu);
};

namespace {

// "x" and "x:0" name the same tensor.
absl::StatusOr<std::string> CanonicalTensorName(const std::string& name, absl::string_view what) {
  absl::StatusOr<TensorId> id = ParseTensorName(name);
  if (!id.ok() || id->index == kControlSlot) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "' is not a tensor name (expected node or node:index)"));
  }
  return absl::StrCat(id->node, ":", id->index);
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// One step of a partitioned plan: every partition's executor runs with the same call frame
// and a fresh rendezvous. The calling thread runs the first partition without a CUDA-graph
// runner (see below); the inter-op pool (or, with none, one thread per partition) the others
// -- a partition waiting for a _Recv holds no thread, and the caller helps with queued pool
// work while it waits. The first partition to fail aborts the rendezvous, so the others'
// pending receives fail and they finish too; the step returns that first error.
absl::Status RunPartitions(const ExecutablePlan& plan, const Executor::StepArgs& base,
                           RunMetadata* metadata) {
  const int n = static_cast<int>(plan.partitions.size());
  Rendezvous rendezvous;
  base.frame->rendezvous = &rendezvous;
  std::vector<Executor::StepArgs> args(n, base);
  std::vector<std::unique_ptr<StepStatsCollector>> stats;
  if (metadata != nullptr) {
    for (int p = 0; p < n; ++p) {
      stats.push_back(std::make_unique<StepStatsCollector>(plan.partitions[p].device));
      args[p].stats = stats.back().get();
    }
  }
  struct Step {
    const ExecutablePlan& plan;
    std::vector<Executor::StepArgs>& args;
    Rendezvous& rendezvous;
    absl::Mutex mu;
    int running ABSL_GUARDED_BY(mu) = 0;
    void RunPartition(int p) {
      const ExecutablePlan::Partition& part = plan.partitions[p];
      absl::Status s = part.gpu_runner != nullptr ? part.gpu_runner->Run(args[p])
                                                  : part.executor->Run(args[p]);
      if (!s.ok()) rendezvous.StartAbort(s);
    }
  } step{plan, args, rendezvous};
  // The calling thread runs a partition without a CUDA-graph runner. A runner's wait for its
  // inputs blocks its thread without helping the pool (gpu_graph_runner.cc), so it must not sit
  // under the loop below that helps: that loop could be the only one left to run the CPU
  // partition sending those inputs. Scheduled, the runner is either taken by a worker or run by
  // a helping thread on top of a wait that needs nothing from the runner's own frame.
  int first = 0;
  while (first < n - 1 && plan.partitions[first].gpu_runner != nullptr) ++first;
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&step.mu);
    step.running = n - 1;
  }
  for (int p = 0; p < n; ++p) {
    if (p == first) continue;
    auto task = [s = &step, p] {
      s->RunPartition(p);
      absl::MutexLock lock(&s->mu);
      --s->running;
    };
    if (base.pool != nullptr) {
      base.pool->Schedule(task);
    } else {
      threads.emplace_back(task);
    }
  }
  step.RunPartition(first);
  auto others_done = [&step] {
    absl::MutexLock lock(&step.mu);
    return step.running == 0;
  };
  while (!others_done()) {
    if (base.pool != nullptr && base.pool->TryRunOne()) continue;
    absl::MutexLock lock(&step.mu);
    step.mu.AwaitWithTimeout(absl::Condition(
                                 +[](int* running) { return *running == 0; }, &step.running),
                             absl::Microseconds(200));
  }
  for (std::thread& t : threads) t.join();
  base.frame->rendezvous = nullptr;
  if (metadata != nullptr) {
    metadata->Clear();
    for (auto& collector : stats) collector->Finish(metadata->mutable_step_stats());
  }
  return rendezvous.status();
}

}  // namespace

Session::Session(std::unique_ptr<Graph> graph, const SessionOptions& options)
    : graph_(std::move(graph)), options_(options) {
  // Debian's Abseil is built with Mutex deadlock detection on, which records every lock in a
  // global cycle graph: a third of the executor's per-node cost on the 2,000-node chain
  // (callgrind). Weir's locks are leaf locks; turn the detector off once.
  static bool detection_off = [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    return true;
  }();
  (void)detection_off;
  cpu_ = std::make_unique<CpuDevice>(options.intra_op_threads);
  for (int i = 1; i < options.num_cpu_devices; ++i) {
    more_cpus_.push_back(std::make_unique<CpuDevice>(options.intra_op_threads, i));
  }
  if (options.num_gpu_devices != 0 && GpuDeviceCount() > 0) {
    // Any failure here (an old GPU, a driver problem) leaves the session on the CPU.
    absl::StatusOr<std::unique_ptr<GpuDevice>> gpu = GpuDevice::Create(0, options.gpu_options);
    if (gpu.ok()) gpu_ = *std::move(gpu);
  }
  if (options.inter_op_pool != nullptr) {
    // The caller's pool: an aliasing pointer with no owner, so nothing here destroys it.
    inter_op_pool_ = std::shared_ptr<ThreadPool>(std::shared_ptr<ThreadPool>(),
                                                 options.inter_op_pool);
    return;
  }
  int inter = options.inter_op_threads;
  if (inter <= 0) inter = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // The calling thread runs nodes too, so a pool of inter-1 workers gives `inter` threads.
  if (inter > 1) inter_op_pool_ = std::make_shared<ThreadPool>("inter_op", inter - 1);
}

Session::~Session() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const GraphDef& graph_def,
                                                         const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(graph_def);
  if (!graph.ok()) return graph.status();
  return std::unique_ptr<Session>(new Session(*std::move(graph), options));
}

absl::Status Session::Close() {
  std::shared_ptr<ThreadPool> pool;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    closing_.store(true);
    plans_.clear();
    last_call_.reset();
    pool = std::move(inter_op_pool_);
  }
  {
    // Running steps see closing_ and stop at their next node; the variables they may still
    // touch go only after the last one returns.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* active) { return *active == 0; }, &active_steps_));
  }
  cpu_->resource_manager()->Clear();
  pool.reset();  // joins the workers outside the lock, unless a running step still holds it
  // Give cached tensor blocks back to the system (blocks other sessions hold stay theirs).
  CpuAllocator::Get()->ReleaseCached();
  return absl::OkStatus();
}

int Session::num_gpu_graphs() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [key, entry] : plans_) {
    for (const auto& part : entry.plan->partitions) {
      if (part.gpu_runner != nullptr) n += part.gpu_runner->num_graphs();
    }
  }
  return n;
}

int Session::num_direct_gpu_plans() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [key, entry] : plans_) n += entry.plan->direct_partition >= 0 ? 1 : 0;
  return n;
}

int Session::num_cached_plans() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(plans_.size());
}

absl::StatusOr<std::shared_ptr<const ExecutablePlan>> Session::CompilePlan(
    const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
    const std::vector<std::string>& targets) const {
  auto plan = std::make_shared<ExecutablePlan>();
  std::unique_ptr<Graph> graph = graph_->Clone();
  PassContext context;
  context.opt_level = options_.opt_level;

  // Feeds become _Arg nodes; every consumer of the fed tensor reads the _Arg instead.
  absl::flat_hash_map<std::string, Node*> fed;  // canonical name -> _Arg
  for (size_t k = 0; k < feeds.size(); ++k) {
    TensorId id = *ParseTensorName(feeds[k]);
    Node* node = graph->FindNode(id.node);
    if (node == nullptr) {
      return absl::NotFoundError(absl::StrCat("feed '", feeds[k], "': no node named '", id.node,
                                              "' in the graph"));
    }
    if (id.index >= node->num_outputs()) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", feeds[k], "': node ",
                                                     node->DebugName(), " has ",
                                                     node->num_outputs(), " output(s)"));
    }
    const DataType dtype = BaseType(node->output_type(id.index));
    const PartialShape shape = node->output_shape(id.index);
    NodeDef arg;
    arg.set_name(absl::StrCat("_arg_", id.node, "_", id.index));
    arg.set_op("_Arg");
    (*arg.mutable_attr())["T"] = MakeAttr(dtype);
    (*arg.mutable_attr())["index"] = MakeAttr(static_cast<int64_t>(k));
    AttrValue shapes;
    shape.ToProto(shapes.mutable_list()->add_shape());
    (*arg.mutable_attr())["_output_shapes"] = shapes;
    absl::StatusOr<Node*> arg_node = graph->AddNode(arg);
    if (!arg_node.ok()) return arg_node.status();
    (*arg_node)->set_output_shape(0, shape);
    std::vector<Edge*> out(node->out_edges().begin(), node->out_edges().end());
    for (Edge* e : out) {
      if (e->IsControl() || e->src_output != id.index) continue;
      Node* dst = e->dst;
      int dst_input = e->dst_input;
      graph->RemoveEdge(e);
      absl::StatusOr<Edge*> edge = graph->AddEdge(*arg_node, 0, dst, dst_input);
      if (!edge.ok()) return edge.status();
    }
    fed[feeds[k]] = *arg_node;
    plan->feeds.push_back({feeds[k], dtype, shape});
    plan->feed_index[feeds[k]] = static_cast<int>(k);
  }

  // Fetches become _Retval nodes reading the fetched tensor (or its feed).
  for (size_t k = 0; k < fetches.size(); ++k) {
    TensorId id = *ParseTensorName(fetches[k]);
    Node* src = nullptr;
    int src_output = id.index;
    if (auto it = fed.find(fetches[k]); it != fed.end()) {
      src = it->second;
      src_output = 0;
    } else {
      src = graph->FindNode(id.node);
      if (src == nullptr) {
        return absl::NotFoundError(absl::StrCat("fetch '", fetches[k], "': no node named '",
                                                id.node, "' in the graph"));
      }
      if (id.index >= src->num_outputs()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "fetch '", fetches[k], "': node ", src->DebugName(), " has ", src->num_outputs(),
            " output(s), so output ", id.index, " does not exist"));
      }
    }
    NodeDef retval;
    retval.set_name(absl::StrCat("_retval_", id.node, "_", id.index));
    retval.set_op("_Retval");
    (*retval.mutable_attr())["T"] = MakeAttr(BaseType(src->output_type(src_output)));
    (*retval.mutable_attr())["index"] = MakeAttr(static_cast<int64_t>(k));
    absl::StatusOr<Node*> retval_node = graph->AddNode(retval);
    if (!retval_node.ok()) return retval_node.status();
    absl::StatusOr<Edge*> edge = graph->AddEdge(src, src_output, *retval_node, 0);
    if (!edge.ok()) return edge.status();
    context.keep_nodes.push_back((*retval_node)->name());
    plan->fetch_index[fetches[k]] = static_cast<int>(k);
  }
  plan->num_fetches = static_cast<int>(fetches.size());

  for (const std::string& target : targets) {
    std::string name = target;
    if (!name.empty() && name[0] == '^') name = name.substr(1);
    if (graph->FindNode(name) == nullptr) {
      return absl::NotFoundError(absl::StrCat("target '", target, "': no node named '", name,
                                              "' in the graph"));
    }
    context.keep_nodes.push_back(name);
  }

  if (auto s = RunPipeline(*graph, context); !s.ok()) return s;

  // A Placeholder that survived pruning is needed by a fetch but was not fed.
  for (const Node* node : graph->nodes()) {
    if (node->op() != "Placeholder") continue;
    DataType dtype = DT_INVALID;
    node->GetAttr("dtype", &dtype).IgnoreError();
    return absl::InvalidArgumentError(absl::StrCat(
        "missing feed: placeholder '", node->name(), "' (dtype ", DataTypeString(dtype),
        ", shape ", node->output_shape(0).ToString(), ") must be fed, because fetches {",
        absl::StrJoin(fetches, ", "), "} depend on it"));
  }

  // The GPU first: placement prefers the first device that has the kernels.
  std::vector<Device*> devices;
  if (gpu_ != nullptr) devices.push_back(gpu_.get());
  devices.push_back(cpu_.get());
  for (const auto& cpu : more_cpus_) devices.push_back(cpu.get());
  // The device a partition runs on: the GPU's own, or the session's host device for any CPU
  // (CPU devices share host memory, its allocator and the variables).
  auto executor_device = [this](const std::string& name) -> Device* {
    if (gpu_ != nullptr && name == gpu_->name()) return gpu_.get();
    return cpu_.get();
  };
  // GPU kernels are created inside a GPU step (GpuDevice::BeginStep): their construction
  // enqueues work on the compute stream and waits for it (Const uploads its value), which must
  // not happen while another step captures a CUDA graph -- the upload would be recorded into
  // that graph instead of running, and the wait would invalidate the capture and fail this
  // compile. BeginStep waits until no capture holds the device; no step is held here yet.
  auto create_executor = [this](std::unique_ptr<Graph> g, Device* device) {
    const bool on_gpu = gpu_ != nullptr && device == gpu_.get();
    if (on_gpu) gpu_->BeginStep();
    absl::StatusOr<std::unique_ptr<Executor>> created =
        Executor::Create(std::move(g), device, DefaultKernelRegistry());
    if (on_gpu) gpu_->EndStep();
    return created;
  };
  PlacementOptions placement;
  placement.allow_soft_placement = options_.allow_soft_placement;
  if (auto s = PlaceNodes(*graph, devices, DefaultKernelRegistry(), placement); !s.ok()) return s;
  if (options_.placement_log) {
    for (const Node* node : graph->nodes()) {
      options_.placement_log(absl::StrCat(node->name(), ": (", node->op(), "): ",
                                          node->assigned_device()));
    }
  }
  if (gpu_ != nullptr && options_.gpu_fuse_elementwise && options_.opt_level >= 2) {
    ElementwiseChainOptions chains;
    chains.device = gpu_->name();
    chains.arity = GpuElementwiseChainArity;
    absl::StatusOr<int> fused = FuseElementwiseChains(*graph, chains);
    if (!fused.ok()) return fused.status();
    if (*fused > 0 && options_.placement_log) {
      for (const Node* node : graph->nodes()) {
        if (node->op() != "_WeirElementwiseChain") continue;
        options_.placement_log(absl::StrCat(node->name(), ": (", node->op(), "): ",
                                            node->assigned_device()));
      }
    }
  }
  if (IsMultiDevice(*graph)) {
    absl::StatusOr<std::vector<GraphPartition>> parts = PartitionGraph(*graph);
    if (!parts.ok()) return parts.status();
    for (GraphPartition& part : *parts) {
      Device* device = executor_device(part.device);
      if (device == gpu_.get()) plan->gpu = gpu_.get();
      absl::StatusOr<std::unique_ptr<Executor>> executor =
          create_executor(std::move(part.graph), device);
      if (!executor.ok()) return executor.status();
      plan->partitions.push_back({part.device, *std::move(executor), nullptr});
    }
    if (plan->gpu != nullptr && options_.gpu_graph_capture) {
      std::vector<const Graph*> cpu_graphs;
      for (const auto& part : plan->partitions) {
        if (part.device != gpu_->name()) cpu_graphs.push_back(&part.executor->graph());
      }
      for (auto& part : plan->partitions) {
        if (part.device == gpu_->name()) {
          part.gpu_runner = GpuGraphRunner::Create(part.executor.get(), gpu_.get(), cpu_graphs);
        }
      }
      // Plain inference: no CPU work around the GPU partition, so no second thread either.
      for (int p = 0; p < static_cast<int>(plan->partitions.size()); ++p) {
        const auto& part = plan->partitions[p];
        if (part.gpu_runner == nullptr || plan->partitions.size() != 2) continue;
        const Graph& other = plan->partitions[1 - p].executor->graph();
        absl::StatusOr<GpuGraphRunner::DirectIo> io = GpuGraphRunner::MatchDirectIo(
            other, part.gpu_runner->input_keys(), part.gpu_runner->output_keys());
        if (io.ok()) {
          plan->direct_partition = p;
          plan->direct_io = *std::move(io);
        }
      }
    }
    return std::shared_ptr<const ExecutablePlan>(std::move(plan));
  }
  // One device: the one placement gave every node.
  Device* device = cpu_.get();
  if (std::vector<Node*> nodes = graph->nodes(); !nodes.empty()) {
    device = executor_device(nodes.front()->assigned_device());
  }
  if (device == gpu_.get()) plan->gpu = gpu_.get();
  absl::StatusOr<std::unique_ptr<Executor>> executor = create_executor(std::move(graph), device);
  if (!executor.ok()) return executor.status();
  plan->executor = *std::move(executor);
  return std::shared_ptr<const ExecutablePlan>(std::move(plan));
}

absl::StatusOr<std::shared_ptr<const ExecutablePlan>> Session::GetOrCompilePlan(
    const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
    const std::vector<std::string>& targets) {
  // The key ignores order: the plan maps names to argument and result slots.
  std::string key = absl::StrCat(absl::StrJoin(feeds, ","), "|", absl::StrJoin(fetches, ","), "|",
                                 absl::StrJoin(targets, ","));
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("session is closed");
    auto it = plans_.find(key);
    if (it != plans_.end()) {
      it->second.last_use = ++use_clock_;
      return it->second.plan;
    }
  }
  // Compile outside the lock; two threads racing on a new signature both compile and the
  // first to insert wins.
  absl::StatusOr<std::shared_ptr<const ExecutablePlan>> plan = CompilePlan(feeds, fetches, targets);
  if (!plan.ok()) return plan.status();
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("session is closed");
  auto [it, inserted] = plans_.emplace(key, CacheEntry{*plan, ++use_clock_});
  if (static_cast<int>(plans_.size()) > std::max(1, options_.max_cached_plans)) {
    auto oldest = plans_.begin();
    for (auto i = plans_.begin(); i != plans_.end(); ++i) {
      if (i->second.last_use < oldest->second.last_use) oldest = i;
    }
    plans_.erase(oldest);
  }
  return it->second.plan;
}

absl::Status Session::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                          const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets, std::vector<Tensor>* outputs) {
  return Run(RunOptions(), feeds, fetches, targets, outputs);
}

// A call signature as the caller spelled it, resolved to a plan and to the plan's argument and
// result slots, so a Run repeating the last call's names does no string work at all.
struct Session::ResolvedCall {
  std::vector<std::string> feed_names;
  std::vector<std::string> fetches;
  std::vector<std::string> targets;
  std::shared_ptr<const ExecutablePlan> plan;
  std::vector<int> feed_slot;   // per caller feed: the plan's argument index
  std::vector<int> fetch_slot;  // per caller fetch: the plan's result index

  bool Matches(const std::vector<std::pair<std::string, Tensor>>& f,
               const std::vector<std::string>& fe, const std::vector<std::string>& t) const {
    if (f.size() != feed_names.size() || fe != fetches || t != targets) return false;
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k].first != feed_names[k]) return false;
    }
    return true;
  }
};

absl::StatusOr<std::shared_ptr<const Session::ResolvedCall>> Session::ResolveCall(
    const std::vector<std::pair<std::string, Tensor>>& feeds,
    const std::vector<std::string>& fetches, const std::vector<std::string>& targets) {
  // Canonical, sorted signature.
  std::vector<std::string> feed_names;
  std::vector<std::string> canonical_feeds;
  for (const auto& [name, tensor] : feeds) {
    absl::StatusOr<std::string> c = CanonicalTensorName(name, "feed");
    if (!c.ok()) return c.status();
    canonical_feeds.push_back(*c);
  }
  std::vector<std::string> sorted_feeds = SortedUnique(canonical_feeds);
  if (sorted_feeds.size() != canonical_feeds.size()) {
    return absl::InvalidArgumentError("the same tensor is fed more than once");
  }
  std::vector<std::string> canonical_fetches;
  for (const std::string& name : fetches) {
    absl::StatusOr<std::string> c = CanonicalTensorName(name, "fetch");
    if (!c.ok()) return c.status();
    canonical_fetches.push_back(*c);
  }
  std::vector<std::string> sorted_fetches = SortedUnique(canonical_fetches);
  std::vector<std::string> sorted_targets = SortedUnique(targets);
  if (sorted_fetches.empty() && sorted_targets.empty()) {
    return absl::InvalidArgumentError("nothing to run: no fetches and no targets");
  }

  absl::StatusOr<std::shared_ptr<const ExecutablePlan>> plan =
      GetOrCompilePlan(sorted_feeds, sorted_fetches, sorted_targets);
  if (!plan.ok()) return plan.status();
  auto call = std::make_shared<ResolvedCall>();
  for (const auto& [name, tensor] : feeds) call->feed_names.push_back(name);
  call->fetches = fetches;
  call->targets = targets;
  call->plan = *plan;
  for (const std::string& c : canonical_feeds) call->feed_slot.push_back((*plan)->feed_index.at(c));
  for (const std::string& c : canonical_fetches) call->fetch_slot.push_back((*plan)->fetch_index.at(c));
  return std::shared_ptr<const ResolvedCall>(std::move(call));
}

absl::Status Session::Run(const RunOptions& run_options,
                          const std::vector<std::pair<std::string, Tensor>>& feeds,
                          const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets, std::vector<Tensor>* outputs,
                          RunMetadata* metadata) {
  std::shared_ptr<const ResolvedCall> call;
  std::shared_ptr<ThreadPool> pool;
  {
    // One lock per Run: the last call's resolution, the pool, and this step's count (Close
    // waits for it before freeing what the step may touch).
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("session is closed");
    call = last_call_;
    pool = inter_op_pool_;
    ++active_steps_;
  }
  struct StepEnd {
    Session* session;
    std::shared_ptr<const ResolvedCall>* call;
    std::shared_ptr<ThreadPool>* pool;
    ~StepEnd() {
      // This step's references go before it stops counting: after Close, this may be the
      // plan's last one, and the plan (executors, device Consts, CUDA graphs) must be gone
      // before Close returns and the session (its GpuDevice above all) can be destroyed.
      call->reset();
      pool->reset();
      absl::MutexLock lock(&session->mu_);
      --session->active_steps_;
    }
  } step_end{this, &call, &pool};
  if (call == nullptr || !call->Matches(feeds, fetches, targets)) {
    absl::StatusOr<std::shared_ptr<const ResolvedCall>> resolved = ResolveCall(feeds, fetches, targets);
    if (!resolved.ok()) return resolved.status();
    call = *std::move(resolved);
    absl::MutexLock lock(&mu_);
    last_call_ = call;
  }
  const ExecutablePlan* plan = call->plan.get();

  std::unique_ptr<CallFrame> frame_holder = plan->AcquireFrame();
  CallFrame& frame = *frame_holder;
  struct FrameReturn {
    const ExecutablePlan* plan;
    std::unique_ptr<CallFrame>* frame;
    ~FrameReturn() { plan->ReleaseFrame(std::move(*frame)); }
  } frame_return{plan, &frame_holder};
  for (size_t k = 0; k < feeds.size(); ++k) {
    const ExecutablePlan::Feed& want = plan->feeds[call->feed_slot[k]];
    const Tensor& t = feeds[k].second;
    if (!t.IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", feeds[k].first, "' is an empty tensor"));
    }
    if (t.dtype() != want.dtype) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", feeds[k].first, "' has dtype ",
                                                     DataTypeString(t.dtype()), ", expected ",
                                                     DataTypeString(want.dtype)));
    }
    if (!want.shape.IsCompatibleWith(t.shape())) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", feeds[k].first, "' has shape ",
                                                     t.shape().ToString(), ", expected ",
                                                     want.shape.ToString()));
    }
    frame.args[call->feed_slot[k]] = t;
  }

  Executor::StepArgs args;
  args.frame = &frame;
  args.pool = pool.get();
  args.cancelled = run_options.cancel;
  args.session_closing = &closing_;
  if (run_options.timeout_in_ms > 0) {
    args.deadline = absl::Now() + absl::Milliseconds(run_options.timeout_in_ms);
  }
  const bool tracing = run_options.trace_level > RunOptions::kNoTrace && metadata != nullptr;
  // A GPU step counts itself, so that a CUDA-graph capture runs only while no other step uses
  // the device (and steps that start meanwhile wait for it).
  struct GpuStep {
    GpuDevice* gpu;
    explicit GpuStep(GpuDevice* g) : gpu(g) {
      if (gpu != nullptr) gpu->BeginStep();
    }
    ~GpuStep() {
      if (gpu != nullptr) gpu->EndStep();
    }
  } gpu_step(plan->gpu);
  absl::Status step;
  if (plan->direct_partition >= 0 && !tracing) {
    step = plan->partitions[plan->direct_partition].gpu_runner->RunDirect(args, plan->direct_io);
  } else if (!plan->partitions.empty()) {
    step = RunPartitions(*plan, args, tracing ? metadata : nullptr);
  } else {
    std::unique_ptr<StepStatsCollector> stats;
    if (tracing) {
      stats = std::make_unique<StepStatsCollector>(cpu_->name());
      args.stats = stats.get();
    }
    step = plan->executor->Run(args);
    if (stats != nullptr) {
      metadata->Clear();
      stats->Finish(metadata->mutable_step_stats());
    }
  }
  if (plan->gpu != nullptr) {
    // Even after a failed step: its enqueued work must finish before the next step reuses the
    // memory the failed one held.
    absl::Status synced = plan->gpu->SynchronizeStream(GpuDevice::Stream::kCompute);
    if (step.ok()) step = synced;
  }
  if (!step.ok()) return step;

  outputs->clear();
  outputs->reserve(fetches.size());
  for (size_t k = 0; k < fetches.size(); ++k) {
    const Tensor& t = frame.retvals[call->fetch_slot[k]];
    if (!t.IsInitialized()) {
      outputs->clear();
      return absl::InvalidArgumentError(absl::StrCat(
          "fetch '", fetches[k], "' has no value: it is on the untaken branch of a Switch (dead)"));
    }
    outputs->push_back(t);
  }
  return absl::OkStatus();
}

}  // namespace weir
