// onednn_threads_test.cc - Tests for the oneDNN team sizing in kernels/cpu/onednn.cc: the team
// follows the work and the device's threads shared among the kernels running on it
// (Device::KernelScope, which the executor holds around every expensive kernel).
#include <omp.h>

#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/cpu/onednn.h"
#include "runtime/device.h"

namespace weir {
namespace {

TEST_CASE("oneDNN team: the device's threads, at most one per kFlopsPerThread of work") {
  CpuDevice device(/*intra_op_threads=*/4);
  CHECK(onednn::UseIntraOpThreads(&device) == 4);
  CHECK(omp_get_max_threads() == 4);
  CHECK(onednn::UseIntraOpThreads(&device, 0.5 * onednn::kFlopsPerThread) == 1);
  CHECK(omp_get_max_threads() == 1);
  CHECK(onednn::UseIntraOpThreads(&device, 2.5 * onednn::kFlopsPerThread) == 2);
  CHECK(onednn::UseIntraOpThreads(&device, 100 * onednn::kFlopsPerThread) == 4);
  CHECK(omp_get_max_threads() == 4);
}

TEST_CASE("oneDNN team: the device's threads are shared among the kernels running on it") {
  CpuDevice device(/*intra_op_threads=*/4);
  const double big = 100 * onednn::kFlopsPerThread;
  {
    Device::KernelScope first(&device);
    CHECK(device.running_kernels() == 1);
    CHECK(onednn::UseIntraOpThreads(&device, big) == 4);
    {
      Device::KernelScope second(&device);
      CHECK(onednn::UseIntraOpThreads(&device, big) == 2);
      Device::KernelScope third(&device);
      Device::KernelScope fourth(&device);
      Device::KernelScope fifth(&device);
      // Never below one thread.
      CHECK(onednn::UseIntraOpThreads(&device, big) == 1);
      CHECK(onednn::UseIntraOpThreads(&device) == 1);
    }
    CHECK(device.running_kernels() == 1);
    CHECK(onednn::UseIntraOpThreads(&device) == 4);
  }
  CHECK(device.running_kernels() == 0);
}

TEST_CASE("oneDNN team: a kernel outside a KernelScope counts itself") {
  // The executor runs cheap kernels inline without a KernelScope; while another thread's
  // expensive kernel holds one, such a kernel must take its share, not the whole device.
  CpuDevice device(/*intra_op_threads=*/2);
  const double big = 100 * onednn::kFlopsPerThread;
  CHECK(onednn::UseIntraOpThreads(&device, big) == 2);
  std::atomic<bool> held{false}, release{false};
  std::thread other([&] {
    Device::KernelScope gemm(&device);
    held = true;
    while (!release) std::this_thread::yield();
  });
  while (!held) std::this_thread::yield();
  CHECK_FALSE(Device::KernelScope::ActiveOnThisThread());
  CHECK(device.running_kernels_with_caller() == 2);
  CHECK(onednn::UseIntraOpThreads(&device, big) == 1);
  {
    Device::KernelScope mine(&device);
    CHECK(device.running_kernels_with_caller() == 2);
    CHECK(onednn::UseIntraOpThreads(&device, big) == 1);
  }
  release = true;
  other.join();
  CHECK(onednn::UseIntraOpThreads(&device, big) == 2);
}

TEST_CASE("oneDNN team: the setting is per calling thread") {
  CpuDevice two(/*intra_op_threads=*/2);
  CpuDevice three(/*intra_op_threads=*/3);
  std::atomic<int> seen_a{0}, seen_b{0};
  std::thread a([&] {
    onednn::UseIntraOpThreads(&two);
    seen_a = omp_get_max_threads();
  });
  a.join();
  std::thread b([&] {
    onednn::UseIntraOpThreads(&three);
    seen_b = omp_get_max_threads();
  });
  b.join();
  CHECK(seen_a == 2);
  CHECK(seen_b == 3);
}

}  // namespace
}  // namespace weir
