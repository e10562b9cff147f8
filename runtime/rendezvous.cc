// rendezvous.cc - The per-step rendezvous of _Send and _Recv.
#include "runtime/rendezvous.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace weir {

std::string RendezvousKey(absl::string_view send_device, int64_t incarnation,
                          absl::string_view recv_device, absl::string_view tensor_name) {
  return absl::StrCat(send_device, ";", absl::Hex(static_cast<uint64_t>(incarnation)), ";",
                      recv_device, ";", tensor_name);
}

absl::StatusOr<std::string> RendezvousKeyOf(const Node& node) {
  std::string send_device, recv_device, tensor_name;
  int64_t incarnation = 0;
  for (auto s : {node.GetAttr("send_device", &send_device),
                 node.GetAttr("recv_device", &recv_device),
                 node.GetAttr("tensor_name", &tensor_name),
                 node.GetAttr("send_device_incarnation", &incarnation)}) {
    if (!s.ok()) return s;
  }
  return RendezvousKey(send_device, incarnation, recv_device, tensor_name);
}

absl::StatusOr<Rendezvous*> StepRendezvous(const KernelContext& ctx) {
  Rendezvous* rendezvous = ctx.call_frame() != nullptr ? ctx.call_frame()->rendezvous : nullptr;
  if (rendezvous == nullptr) {
    return absl::FailedPreconditionError(
        "no rendezvous in this step: _Send/_Recv run only in a plan partitioned over devices");
  }
  return rendezvous;
}

Rendezvous::~Rendezvous() {
  absl::MutexLock lock(&mu_);
  for (const auto& [key, item] : items_) {
    if (item.waiter != nullptr) {
      std::fprintf(stderr, "weir internal error: rendezvous destroyed with a receive pending for '%s'\n",
                   key.c_str());
      std::abort();
    }
  }
}

absl::Status Rendezvous::Send(const std::string& key, Tensor value) {
  DoneCallback waiter;
  {
    absl::MutexLock lock(&mu_);
    if (!abort_status_.ok()) return abort_status_;
    Item& item = items_[key];
    if (item.has_value) {
      return absl::InternalError(absl::StrCat("rendezvous key '", key, "' sent twice in one step"));
    }
    if (item.waiter == nullptr) {
      item.has_value = true;
      item.value = std::move(value);
      return absl::OkStatus();
    }
    waiter = std::move(item.waiter);
    item.waiter = nullptr;
    item.has_value = true;  // consumed: a second Send of the key is still an error
  }
  waiter(absl::OkStatus(), value);
  return absl::OkStatus();
}

void Rendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  Tensor value;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (!abort_status_.ok()) {
      status = abort_status_;
    } else {
      Item& item = items_[key];
      if (!item.has_value) {
        if (item.waiter != nullptr) {
          status = absl::InternalError(absl::StrCat("rendezvous key '", key, "' received twice in one step"));
        } else {
          item.waiter = std::move(done);
          return;
        }
      } else {
        value = std::move(item.value);
        item.value = Tensor();
      }
    }
  }
  done(status, value);
}

void Rendezvous::StartAbort(const absl::Status& given) {
  const absl::Status status =
      given.ok() ? absl::InternalError("rendezvous aborted with an OK status") : given;
  std::vector<DoneCallback> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (!abort_status_.ok()) return;
    abort_status_ = status;
    for (auto& [key, item] : items_) {
      if (item.waiter != nullptr) {
        waiters.push_back(std::move(item.waiter));
        item.waiter = nullptr;
      }
      item.value = Tensor();
    }
  }
  for (DoneCallback& waiter : waiters) waiter(status, Tensor());
}

absl::Status Rendezvous::status() const {
  absl::MutexLock lock(&mu_);
  return abort_status_;
}

}  // namespace weir
