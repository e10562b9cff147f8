// device.cc - The CPU device.
#include "runtime/device.h"

#include <thread>

#include "absl/strings/str_cat.h"

namespace weir {

CpuDevice::CpuDevice(int intra_op_threads, int index)
    : Device(absl::StrCat("/device:CPU:", index), kDeviceCpu) {
  if (intra_op_threads <= 0) {
    intra_op_threads = static_cast<int>(std::thread::hardware_concurrency());
    if (intra_op_threads <= 0) intra_op_threads = 1;
  }
  intra_op_threads_ = intra_op_threads;
}

}  // namespace weir
