// kernel.cc - Kernel context helpers.
#include "runtime/kernel.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace weir {

absl::StatusOr<Tensor*> KernelContext::allocate_output(int i, DataType dtype, TensorShape shape) {
  Tensor t(device_->allocator(), dtype, std::move(shape));
  if (t.raw_data() == nullptr && t.TotalBytes() > 0) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory allocating output ", i, " (",
                                                     t.TotalBytes(), " bytes, shape ",
                                                     t.shape().ToString(), ") on ",
                                                     device_->name()));
  }
  outputs_[i] = std::move(t);
  return &outputs_[i];
}

absl::StatusOr<Tensor*> KernelContext::forward_input_or_allocate_output(int input, int i,
                                                                        DataType dtype,
                                                                        const TensorShape& shape) {
  const Tensor& in = inputs_[input];
  if (in.dtype() == dtype && in.shape() == shape && in.RefCountIsOne()) {
    // Whoever dropped the other references (a consumer on another thread) finished reading
    // before it did; see its reads before overwriting.
    std::atomic_thread_fence(std::memory_order_acquire);
    outputs_[i] = in;  // the input slot lets go after Compute
    return &outputs_[i];
  }
  return allocate_output(i, dtype, shape);
}

absl::Status AsyncOpKernel::Compute(KernelContext* ctx) {
  absl::Notification finished;
  ComputeAsync(ctx, [&finished] { finished.Notify(); });
  finished.WaitForNotification();
  return ctx->status();
}

}  // namespace weir
