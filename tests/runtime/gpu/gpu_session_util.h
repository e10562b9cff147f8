// gpu_session_util.h - What the GPU session tests share: skipping on a machine without a GPU,
// and the session's placement log collected from any thread.
#ifndef WEIR_TESTS_RUNTIME_GPU_GPU_SESSION_UTIL_H_
#define WEIR_TESTS_RUNTIME_GPU_GPU_SESSION_UTIL_H_

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"

// Skips the rest of a test case, loudly ("SKIPPED: no GPU": tools/run_tests.sh counts it), on a
// machine without a usable GPU.
#define SKIP_WITHOUT_GPU()             \
  do {                                 \
    if (::weir::GpuDeviceCount() == 0) { \
      WARN("SKIPPED: no GPU");         \
      return;                          \
    }                                  \
  } while (0)

namespace weir {
namespace testing {

// The placement log's lines ("name: (Op): /device:GPU:0"), from any thread.
class PlacementLog {
 public:
  void Attach(SessionOptions* options) {
    options->placement_log = [this](const std::string& line) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(line);
    };
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    lines_.clear();
  }
  std::vector<std::string> Lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  // The device of node `name` in the latest plan that placed it, or "" when none did.
  std::string DeviceOf(const std::string& name) {
    absl::MutexLock lock(&mu_);
    const std::string prefix = absl::StrCat(name, ": (");
    for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
      if (!absl::StartsWith(*it, prefix)) continue;
      const size_t at = it->find("): ", prefix.size());
      if (at != std::string::npos) return it->substr(at + 3);
    }
    return "";
  }
  // Lines of nodes whose op contains `op_part` ("MatMul": MatMul, _FusedMatMul, ...).
  std::vector<std::string> LinesWithOp(const std::string& op_part) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const std::string& line : lines_) {
      const size_t open = line.find(": (");
      const size_t close = line.find("): ", open);
      if (open == std::string::npos || close == std::string::npos) continue;
      if (line.substr(open + 3, close - open - 3).find(op_part) != std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace weir

#endif  // WEIR_TESTS_RUNTIME_GPU_GPU_SESSION_UTIL_H_
