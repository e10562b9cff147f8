// rendezvous.h - Where a step's _Send and _Recv kernels meet (TensorFlow's local rendezvous).
//
// One Rendezvous per step of a plan that runs on several devices: the session makes it, puts
// it in the step's CallFrame and drops it when every partition's executor has returned. A key
// names one transfer (send device, incarnation, receive device, tensor name; see
// RendezvousKey); each key is sent once and received once per step, in either order. A receive
// never blocks a thread: RecvAsync stores the callback and the matching Send calls it.
// StartAbort fails every pending and later receive with its status, so the partitions waiting
// for a value that will never come finish when another one fails.
#ifndef WEIR_RUNTIME_RENDEZVOUS_H_
#define WEIR_RUNTIME_RENDEZVOUS_H_

#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "graph/graph.h"
#include "runtime/kernel.h"
#include "runtime/tensor.h"

namespace weir {

// "send_device;incarnation(hex);recv_device;tensor_name", TensorFlow's layout without the
// frame/iteration suffix (no control flow crosses devices yet).
std::string RendezvousKey(absl::string_view send_device, int64_t incarnation,
                          absl::string_view recv_device, absl::string_view tensor_name);
// The key of a _Send or _Recv node, from its send_device, send_device_incarnation,
// recv_device and tensor_name attrs.
absl::StatusOr<std::string> RendezvousKeyOf(const Node& node);

// The rendezvous of the step a _Send or _Recv kernel runs in; FailedPrecondition when the step
// has none (only plans partitioned over devices do).
class Rendezvous;
absl::StatusOr<Rendezvous*> StepRendezvous(const KernelContext& ctx);

class Rendezvous {
 public:
  using DoneCallback = std::function<void(const absl::Status& status, const Tensor& value)>;

  Rendezvous() = default;
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;
  // Every receive must have completed (the session destroys it after the step).
  ~Rendezvous();

  // Hands `value` to the receiver of `key`, calling its callback on this thread when it is
  // already waiting. Fails after StartAbort (with the abort status) and when `key` was already
  // sent in this step.
  absl::Status Send(const std::string& key, Tensor value);
  // Calls `done` once with the value of `key`: at once when it was sent already, else from the
  // Send (on the sender's thread) or from StartAbort with the abort status.
  void RecvAsync(const std::string& key, DoneCallback done);
  // Fails every waiting receive now and every later Send/RecvAsync. The first call's status
  // is kept; later calls change nothing.
  void StartAbort(const absl::Status& status);
  // OK until StartAbort; then the status it was given.
  absl::Status status() const;

 private:
  struct Item {
    bool has_value = false;
    Tensor value;
    DoneCallback waiter;
  };
  mutable absl::Mutex mu_;
  absl::Status abort_status_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Item> items_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weir

#endif  // WEIR_RUNTIME_RENDEZVOUS_H_
