// onednn_primitive.h - Running and caching oneDNN primitives, for the CPU kernels built on
// them: memory handles over tensors, per-call scratch buffers, execution on the thread's stream
// with dnnl::error turned into a Status, and a kernel's primitive cache keyed by shape and team
// size. Engine, streams and team sizing themselves are in onednn.h.
#ifndef WEIR_KERNELS_CPU_ONEDNN_PRIMITIVE_H_
#define WEIR_KERNELS_CPU_ONEDNN_PRIMITIVE_H_

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/onednn.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"

namespace weir {
namespace onednn {

// A dnnl::memory over `data` on the CPU engine (oneDNN takes a non-const handle; primitives
// only read their inputs).
inline dnnl::memory Bind(const dnnl::memory::desc& desc, const void* data) {
  return dnnl::memory(desc, CpuEngine(), const_cast<void*>(data));
}

// Primitive attributes asking for a scratchpad per execution (scratchpad_mode::user): oneDNN's
// library-managed scratchpad is not safe when one primitive runs on two threads at once.
inline dnnl::primitive_attr UserScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A per-call buffer of desc.get_size() bytes (the scratchpad, a reordered filter, a workspace);
// an empty tensor for an empty descriptor.
inline absl::StatusOr<Tensor> AllocateFor(KernelContext* ctx, const dnnl::memory::desc& desc) {
  return AllocateScratch(ctx, desc.get_size());
}

// Calls body(stream) with the calling thread's stream and waits for the stream. A dnnl::error
// thrown on the way becomes InternalError("<what> failed: <message>").
template <typename Body>
absl::Status RunOnThreadStream(absl::string_view what, Body&& body) {
  try {
    dnnl::stream& stream = ThreadStream();
    body(stream);
    stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat(what, " failed: ", e.what()));
  }
  return absl::OkStatus();
}

// A kernel's primitives by shape. The key must include the team size that
// UseIntraOpThreads returned before the lookup: oneDNN fixes a primitive's work split
// for the team current when it is created (see onednn.h).
template <typename Key, typename Primitive>
class PrimitiveCache {
 public:
  // The primitive for `key`, made by make() (which may throw dnnl::error) the first time the key
  // is seen, under the cache's lock. A dnnl::error becomes
  // InternalError("<describe()> could not be created: <message>") and nothing is cached.
  template <typename Make, typename Describe>
  absl::StatusOr<Primitive> Get(const Key& key, Make&& make, Describe&& describe) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    try {
      return cache_.emplace(key, make()).first->second;
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat(describe(), " could not be created: ", e.what()));
    }
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<Key, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace onednn
}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ONEDNN_PRIMITIVE_H_
