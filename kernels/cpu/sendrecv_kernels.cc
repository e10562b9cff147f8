// sendrecv_kernels.cc - _Send and _Recv on the CPU: the ends of an edge that partitioning cut
// between devices, meeting in the step's rendezvous (runtime/rendezvous.h).
//
// CPU devices share host memory and the host allocator, so the receiver gets the sender's
// tensor itself: no copy. The GPU's pair (kernels/gpu/ops/core_ops.cc) is where the copies
// between host and device memory happen.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/registry.h"
#include "runtime/rendezvous.h"

namespace weir {
namespace {

class SendKernel : public OpKernel {
 public:
  SendKernel(const KernelConstruction& c, std::string key) : OpKernel(c), key_(std::move(key)) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<Rendezvous*> rendezvous = StepRendezvous(*ctx);
    if (!rendezvous.ok()) return rendezvous.status();
    return (*rendezvous)->Send(key_, ctx->input(0));
  }
  bool IsExpensive() const override { return false; }

 private:
  std::string key_;
};

// Completes when the value arrives, from the sender's thread: no thread waits for it.
class RecvKernel : public AsyncOpKernel {
 public:
  RecvKernel(const KernelConstruction& c, std::string key) : AsyncOpKernel(c), key_(std::move(key)) {}
  void ComputeAsync(KernelContext* ctx, DoneCallback done) override {
    absl::StatusOr<Rendezvous*> rendezvous = StepRendezvous(*ctx);
    if (!rendezvous.ok()) {
      ctx->SetStatus(rendezvous.status());
      done();
      return;
    }
    (*rendezvous)->RecvAsync(key_, [ctx, done = std::move(done)](const absl::Status& status,
                                                             const Tensor& value) {
      if (status.ok()) {
        ctx->set_output(0, value);
      } else {
        ctx->SetStatus(status);
      }
      done();
    });
  }

 private:
  std::string key_;
};

template <typename KernelClass>
absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
  absl::StatusOr<std::string> key = RendezvousKeyOf(c.node());
  if (!key.ok()) return key.status();
  return std::unique_ptr<OpKernel>(new KernelClass(c, *std::move(key)));
}

}  // namespace

void RegisterCpuSendRecvKernels(KernelRegistry& registry) {
  registry.Register({"_Send", kDeviceCpu, "", {}, Create<SendKernel>, /*handles_strings=*/true});
  registry.Register({"_Recv", kDeviceCpu, "", {}, Create<RecvKernel>, /*handles_strings=*/true});
}

}  // namespace weir
