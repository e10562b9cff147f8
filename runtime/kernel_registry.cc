// kernel_registry.cc - Kernel lookup by op, device type and dtype.
#include "runtime/kernel_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weir {
namespace {

bool HasStringArgs(const Node& node) {
  for (DataType t : node.input_types()) {
    if (BaseType(t) == DT_STRING) return true;
  }
  for (DataType t : node.output_types()) {
    if (BaseType(t) == DT_STRING) return true;
  }
  return false;
}

}  // namespace

void KernelRegistry::Register(KernelDef def) {
  absl::MutexLock lock(&mu_);
  std::string op = def.op;
  defs_.emplace(std::move(op), std::move(def));
}

absl::StatusOr<const KernelDef*> KernelRegistry::Find(const Node& node,
                                                      const std::string& device_type) const {
  absl::MutexLock lock(&mu_);
  auto range = defs_.equal_range(node.op());
  std::vector<std::string> registered;
  DataType found = DT_INVALID;
  std::string attr_name;
  const bool has_strings = HasStringArgs(node);
  bool refused_strings = false;
  absl::Status refused;  // the first constraint that turned a matching row down
  for (auto it = range.first; it != range.second; ++it) {
    const KernelDef& def = it->second;
    if (def.device_type != device_type) continue;
    if (has_strings && !def.handles_strings &&
        std::find(def.types.begin(), def.types.end(), DT_STRING) == def.types.end()) {
      refused_strings = true;
      continue;
    }
    auto accepts = [&]() {
      if (!def.constraint) return true;
      absl::Status s = def.constraint(node);
      if (!s.ok() && refused.ok()) refused = std::move(s);
      return s.ok();
    };
    if (def.type_attr.empty()) {
      if (accepts()) return &def;
      continue;
    }
    DataType dtype;
    if (!node.GetAttr(def.type_attr, &dtype).ok()) continue;
    bool type_listed = false;
    for (DataType t : def.types) {
      if (t == dtype) type_listed = true;
      registered.push_back(DataTypeString(t));
    }
    if (type_listed) {
      if (accepts()) return &def;
      continue;
    }
    found = dtype;
    attr_name = def.type_attr;
  }
  if (!refused.ok()) {
    return absl::NotFoundError(absl::StrCat("node ", node.DebugName(), ": the ", device_type,
                                            " kernel for op ", node.op(), " does not apply: ",
                                            refused.message()));
  }
  if (refused_strings && registered.empty() && found == DT_INVALID) {
    return absl::NotFoundError(absl::StrCat("node ", node.DebugName(), ": no ", device_type,
                                            " kernel for op ", node.op(),
                                            " takes string tensors"));
  }
  if (registered.empty() && found == DT_INVALID) {
    return absl::NotFoundError(absl::StrCat("node ", node.DebugName(), ": no ", device_type,
                                            " kernel for op ", node.op()));
  }
  return absl::NotFoundError(absl::StrCat("node ", node.DebugName(), ": no ", device_type,
                                          " kernel for ", attr_name, "=", DataTypeString(found),
                                          " (registered: ", absl::StrJoin(registered, ", "), ")"));
}

std::vector<std::string> KernelRegistry::Ops(const std::string& device_type) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ops;
  for (const auto& [op, def] : defs_) {
    if (def.device_type == device_type && (ops.empty() || ops.back() != op)) ops.push_back(op);
  }
  return ops;
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateKernel(const KernelRegistry& registry,
                                                       const Node& node, Device* device) {
  absl::StatusOr<const KernelDef*> def = registry.Find(node, device->type());
  if (!def.ok()) return def.status();
  KernelConstruction construction(node, device);
  absl::StatusOr<std::unique_ptr<OpKernel>> kernel = (*def)->factory(construction);
  if (!kernel.ok()) {
    return absl::Status(kernel.status().code(), absl::StrCat("node ", node.DebugName(), ": ",
                                                             kernel.status().message()));
  }
  return kernel;
}

}  // namespace weir
