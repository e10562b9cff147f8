// placement.cc - Device assignment.
#include "compiler/placement.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "compiler/op_traits.h"

namespace weir {

absl::StatusOr<DeviceSpec> ParseDeviceName(const std::string& name) {
  DeviceSpec spec;
  if (name.empty()) return spec;
  for (absl::string_view part : absl::StrSplit(name, '/', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(part, ':');
    std::string key = absl::AsciiStrToLower(fields[0]);
    if (key == "job" || key == "replica" || key == "task") continue;
    std::string type;
    std::string index;
    if (key == "device" && fields.size() >= 2) {
      type = fields[1];
      if (fields.size() >= 3) index = fields[2];
    } else if (key == "cpu" || key == "gpu") {
      type = fields[0];
      if (fields.size() >= 2) index = fields[1];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("malformed device name '", name, "'"));
    }
    spec.type = absl::AsciiStrToUpper(type);
    if (!index.empty() && index != "*") {
      if (!absl::SimpleAtoi(index, &spec.index) || spec.index < 0) {
        return absl::InvalidArgumentError(absl::StrCat("malformed device name '", name, "'"));
      }
    }
  }
  return spec;
}

namespace {

bool Matches(const DeviceSpec& spec, const Device& device, int device_index) {
  if (!spec.type.empty() && spec.type != device.type()) return false;
  return spec.index < 0 || spec.index == device_index;
}

// Disjoint sets over node ids for colocation groups.
class Groups {
 public:
  explicit Groups(int n) : parent_(n) {
    for (int i = 0; i < n; ++i) parent_[i] = i;
  }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(int a, int b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<int> parent_;
};

}  // namespace

absl::Status PlaceNodes(Graph& graph, const std::vector<Device*>& devices,
                        const KernelRegistry& registry, const PlacementOptions& options) {
  Device* cpu = nullptr;
  for (Device* d : devices) {
    if (d->type() == kDeviceCpu && cpu == nullptr) cpu = d;
  }
  if (cpu == nullptr) return absl::InternalError("no CPU device");
  // A device's index among devices of its type ("GPU:1" is the second GPU).
  std::vector<int> type_index(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    int n = 0;
    for (size_t j = 0; j < i; ++j) n += devices[j]->type() == devices[i]->type();
    type_index[i] = n;
  }
  std::vector<std::string> device_names;
  for (Device* d : devices) device_names.push_back(d->name());

  // Parse every request and build the colocation groups.
  const std::vector<Node*> nodes = graph.nodes();
  Groups groups(graph.num_node_ids());
  std::vector<DeviceSpec> specs(graph.num_node_ids());
  for (Node* node : nodes) {
    absl::StatusOr<DeviceSpec> spec = ParseDeviceName(node->requested_device());
    if (!spec.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node->DebugName(), ": ", spec.status().message()));
    }
    if (!spec->type.empty() && spec->type != kDeviceCpu && spec->type != kDeviceGpu) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", node->DebugName(), ": requested device '", node->requested_device(),
          "' has unknown type ", spec->type, ", expected CPU or GPU"));
    }
    specs[node->id()] = *spec;
    std::vector<std::string> classes;
    if (node->GetAttr("_class", &classes).ok()) {
      for (const std::string& c : classes) {
        if (!absl::StartsWith(c, "loc:@")) continue;
        // A colocation target pruned away (or never present) constrains nothing.
        if (const Node* other = graph.FindNode(c.substr(5)); other != nullptr) {
          groups.Union(node->id(), other->id());
        }
      }
    }
  }

  // Rule 0: TF1 control flow cannot cross devices yet (partition.h refuses it), so a graph
  // with any runs on one device: the one every explicit request names when they agree and it
  // has every node's kernel (a graph pinned to /cpu:1), else the first CPU device, where every
  // control-flow op has its kernel.
  const Node* control_flow = nullptr;
  for (const Node* node : nodes) {
    if (IsControlFlowOp(*node)) {
      control_flow = node;
      break;
    }
  }
  if (control_flow != nullptr && devices.size() > 1) {
    auto index_of = [&](const Device* d) {
      return type_index[std::find(devices.begin(), devices.end(), d) - devices.begin()];
    };
    auto requested = [&](const Node* node) {
      const DeviceSpec& spec = specs[node->id()];
      return !spec.type.empty() || spec.index >= 0;
    };
    // The device every request matches (the first such), when there is one for all of them.
    Device* target = cpu;
    Device* agreed = nullptr;
    bool agree = true;
    for (const Node* node : nodes) {
      if (!requested(node)) continue;
      Device* match = nullptr;
      for (Device* d : devices) {
        if (Matches(specs[node->id()], *d, index_of(d))) {
          match = d;
          break;
        }
      }
      if (match == nullptr || (agreed != nullptr && match != agreed)) {
        agree = false;
        break;
      }
      agreed = match;
    }
    if (agree && agreed != nullptr) {
      bool has_kernels = true;
      for (const Node* node : nodes) has_kernels = has_kernels && registry.HasKernel(*node, agreed->type());
      if (has_kernels) target = agreed;
    }
    for (Node* node : nodes) {
      const bool asked_elsewhere =
          requested(node) && !Matches(specs[node->id()], *target, index_of(target));
      if (asked_elsewhere && !options.allow_soft_placement) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", node->DebugName(), " requests device '", node->requested_device(),
            "', but the graph has TF1 control flow (node ", control_flow->DebugName(),
            "), which runs on one device: ", target->name(),
            "; turn on soft placement to run the graph there"));
      }
      node->set_assigned_device(target->name());
    }
    return absl::OkStatus();
  }

  absl::flat_hash_map<int, std::vector<Node*>> members;
  for (Node* node : nodes) members[groups.Find(node->id())].push_back(node);
  absl::flat_hash_map<int, int> group_size;
  for (const auto& [root, group] : members) group_size[root] = static_cast<int>(group.size());

  for (Node* first : nodes) {
    const int root = groups.Find(first->id());
    auto it = members.find(root);
    if (it == members.end()) continue;  // group already placed
    const std::vector<Node*> group = std::move(it->second);
    members.erase(it);
    // The group's request: every explicit request in it must agree.
    const Node* requester = nullptr;
    for (const Node* node : group) {
      const DeviceSpec& spec = specs[node->id()];
      if (spec.type.empty() && spec.index < 0) continue;
      if (requester != nullptr) {
        const DeviceSpec& have = specs[requester->id()];
        const bool agree = (have.type.empty() || spec.type.empty() || have.type == spec.type) &&
                           (have.index < 0 || spec.index < 0 || have.index == spec.index);
        if (!agree && !options.allow_soft_placement) {
          return absl::InvalidArgumentError(absl::StrCat(
              "cannot colocate node ", node->DebugName(), " (requested device '",
              node->requested_device(), "') with node ", requester->DebugName(),
              " (requested device '", requester->requested_device(),
              "'): a colocation group runs on one device"));
        }
        if (!agree) continue;  // soft placement: the first request wins
      }
      requester = node;
    }
    auto has_kernels = [&](const Device& device) {
      for (const Node* node : group) {
        if (!registry.HasKernel(*node, device.type())) return false;
      }
      return true;
    };
    Device* chosen = nullptr;
    if (requester != nullptr) {
      const DeviceSpec& want = specs[requester->id()];
      bool exists = false;
      for (size_t i = 0; i < devices.size() && chosen == nullptr; ++i) {
        if (!Matches(want, *devices[i], type_index[i])) continue;
        exists = true;
        if (has_kernels(*devices[i])) chosen = devices[i];
      }
      if (chosen == nullptr && !options.allow_soft_placement) {
        if (!exists) {
          return absl::InvalidArgumentError(absl::StrCat(
              "node ", requester->DebugName(), " requests device '", requester->requested_device(),
              "', which does not exist (devices: ", absl::StrJoin(device_names, ", "),
              "); turn on soft placement to run it elsewhere"));
        }
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", requester->DebugName(), " requests device '", requester->requested_device(),
            "', which has no kernel for ", group.size() == 1 ? "its op" : "every op of its colocation group",
            "; turn on soft placement to run it elsewhere"));
      }
    }
    for (size_t i = 0; i < devices.size() && chosen == nullptr; ++i) {
      if (has_kernels(*devices[i])) chosen = devices[i];
    }
    // Nothing has every kernel: the CPU, where kernel creation names the missing one.
    if (chosen == nullptr) chosen = cpu;
    for (Node* node : group) node->set_assigned_device(chosen->name());
  }

  // A node without data inputs (a Const, most often) that nobody asked to put anywhere and
  // whose every consumer landed on one other device moves there: a CPU-only convolution's
  // weights would otherwise sit on the preferred GPU and cross back every step.
  absl::flat_hash_map<std::string, Device*> by_name;
  for (Device* d : devices) by_name[d->name()] = d;
  auto unrequested_singleton = [&](const Node* node) {
    const DeviceSpec& spec = specs[node->id()];
    return group_size[groups.Find(node->id())] == 1 && spec.type.empty() && spec.index < 0;
  };
  auto is_source = [](const Node* node) {
    for (const Edge* e : node->in_edges()) {
      if (!e->IsControl()) return false;
    }
    return true;
  };
  auto sources_follow_consumers = [&] {
    for (Node* node : nodes) {
      if (!unrequested_singleton(node) || !is_source(node)) continue;
      std::string target;
      bool single = true;
      for (const Edge* e : node->out_edges()) {
        if (e->IsControl()) continue;
        const std::string& d = e->dst->assigned_device();
        if (target.empty()) {
          target = d;
        } else if (d != target) {
          single = false;
          break;
        }
      }
      if (!single || target.empty() || target == node->assigned_device()) continue;
      auto it = by_name.find(target);
      if (it != by_name.end() && registry.HasKernel(*node, it->second->type())) {
        node->set_assigned_device(target);
      }
    }
  };
  sources_follow_consumers();

  // A scalar computation between CPU nodes stays on the CPU even when the preferred device has
  // its kernel: Adam's beta-power update (read, Mul, assign, all scalars) would otherwise cross
  // to the GPU and back every step, and because that read waits for the optimizer's updates,
  // tie the GPU partition's inputs to its own outputs. Only scalars: a user's small MatMul fed
  // and fetched directly still runs where it was expected to.
  constexpr int64_t kTinyElements = 1;
  for (Node* node : nodes) {
    if (!unrequested_singleton(node)) continue;
    auto it = by_name.find(node->assigned_device());
    if (it == by_name.end() || it->second->type() == kDeviceCpu) continue;
    int64_t elements = 0;
    bool small = node->num_outputs() > 0;
    for (const PartialShape& shape : node->output_shapes()) {
      small = small && shape.IsFullyDefined();
      if (small) elements += shape.num_elements();
    }
    if (!small || elements > kTinyElements) continue;
    std::string cpu_device;
    bool all_cpu = true;
    auto on_cpu = [&](const Node* other) {
      const std::string& d = other->assigned_device();
      auto found = by_name.find(d);
      if (found == by_name.end() || found->second->type() != kDeviceCpu) return false;
      if (cpu_device.empty()) cpu_device = d;
      return d == cpu_device;
    };
    bool has_data_input = false;
    for (const Edge* e : node->in_edges()) {
      if (e->IsControl()) continue;
      has_data_input = true;
      // A Const that may still move (Adam's beta1, read by the Mul and by the CPU's
      // ResourceApplyAdam) does not hold the node on its device: it follows below.
      if (unrequested_singleton(e->src) && is_source(e->src)) continue;
      all_cpu = all_cpu && on_cpu(e->src);
    }
    bool has_consumer = false;
    for (const Edge* e : node->out_edges()) {
      if (e->IsControl()) continue;
      has_consumer = true;
      all_cpu = all_cpu && on_cpu(e->dst);
    }
    if (!has_data_input || !has_consumer || !all_cpu || cpu_device.empty()) continue;
    if (registry.HasKernel(*node, kDeviceCpu)) node->set_assigned_device(cpu_device);
  }
  // Sources whose consumers rule 5 moved follow them.
  sources_follow_consumers();
  return absl::OkStatus();
}

}  // namespace weir
