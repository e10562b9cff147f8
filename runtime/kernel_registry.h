// kernel_registry.h - Which kernel implements an op on a device type for given dtypes.
//
// Each device has an explicit table of rows {op, device, dtype constraint, factory}
// (kernels/cpu/registry.cc); no static initializers.
#ifndef WEIR_RUNTIME_KERNEL_REGISTRY_H_
#define WEIR_RUNTIME_KERNEL_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "runtime/kernel.h"

namespace weir {

using KernelFactory =
    std::function<absl::StatusOr<std::unique_ptr<OpKernel>>(const KernelConstruction&)>;

struct KernelDef {
  std::string op;
  std::string device_type;  // kDeviceCpu, kDeviceGpu
  // When set, the node's value of this type attr must be one of `types`.
  std::string type_attr;
  std::vector<DataType> types;
  KernelFactory factory;
  // Whether the kernel handles DT_STRING inputs and outputs (std::string elements, which
  // byte-copying code would mangle). Rows without it never match a node that has a string input
  // or output; rows whose `types` list DT_STRING handle strings anyway.
  bool handles_strings = false;
  // When set, the row only takes nodes it accepts: OK, or why not ("input 1 (shape) is not a
  // constant"). A GPU kernel that reads an axis or a shape at construction, where TensorFlow's
  // would take it in host memory, accepts only nodes whose such inputs are Const nodes.
  std::function<absl::Status(const Node&)> constraint;
};

// Convenience for table rows: a factory constructing KernelClass(construction).
template <typename KernelClass>
KernelFactory MakeFactory() {
  return [](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new KernelClass(c));
  };
}

class KernelRegistry {
 public:
  KernelRegistry() = default;
  KernelRegistry(const KernelRegistry&) = delete;
  KernelRegistry& operator=(const KernelRegistry&) = delete;

  void Register(KernelDef def);
  // The row for `node` on `device_type`. NotFound naming the node, op, device and the dtypes
  // that are registered when none fits.
  absl::StatusOr<const KernelDef*> Find(const Node& node, const std::string& device_type) const;
  bool HasKernel(const Node& node, const std::string& device_type) const {
    return Find(node, device_type).ok();
  }
  // Ops with at least one kernel for `device_type`.
  std::vector<std::string> Ops(const std::string& device_type) const;

 private:
  mutable absl::Mutex mu_;
  std::multimap<std::string, KernelDef> defs_ ABSL_GUARDED_BY(mu_);  // by op
};

// Instantiates the kernel for `node` on `device`; errors name the node and op.
absl::StatusOr<std::unique_ptr<OpKernel>> CreateKernel(const KernelRegistry& registry,
                                                       const Node& node, Device* device);

}  // namespace weir

#endif  // WEIR_RUNTIME_KERNEL_REGISTRY_H_
