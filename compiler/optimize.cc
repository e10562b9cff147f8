// optimize.cc - GraphDef -> passes -> GraphDef.
#include "compiler/optimize.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/convert.h"
#include "graph/ops/control_flow_ops.h"

namespace weir {

absl::StatusOr<GraphDef> OptimizeGraphDef(const GraphDef& input, const OptimizeOptions& options) {
  absl::StatusOr<std::unique_ptr<Graph>> graph = GraphFromGraphDef(input);
  if (!graph.ok()) return graph.status();
  PassContext context;
  context.opt_level = options.opt_level;
  for (const Node* node : (*graph)->nodes()) {
    if (node->out_edges().empty()) context.keep_nodes.push_back(node->name());
  }
  for (const std::string& name : options.keep) {
    if ((*graph)->FindNode(name) == nullptr) {
      return absl::NotFoundError(absl::StrCat("node '", name, "' to keep is not in the graph"));
    }
    context.keep_nodes.push_back(name);
  }
  absl::Status status;
  if (options.passes.empty()) {
    status = RunPipeline(**graph, context, options.pipeline);
  } else {
    absl::StatusOr<std::vector<std::unique_ptr<Pass>>> passes = BuildPasses(options.passes);
    if (!passes.ok()) return passes.status();
    status = RunPasses(*passes, **graph, context, options.pipeline);
  }
  if (!status.ok()) return status;
  GraphDef output = GraphToGraphDef(**graph);
  // Nodes in topological order, the oldest ready node first (independent of edge-list order),
  // so replacements sit next to their users and a reader or a golden test sees the graph
  // top-down.
  const Graph& g = **graph;
  std::vector<int> pending(g.num_node_ids(), 0);
  auto back_edge = [](const Edge* e) { return IsNextIterationOp(e->src->op()); };
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (const Node* node : g.nodes()) {
    for (const Edge* e : node->in_edges()) pending[node->id()] += back_edge(e) ? 0 : 1;
    if (pending[node->id()] == 0) ready.push(node->id());
  }
  absl::flat_hash_map<std::string, int> position;
  while (!ready.empty()) {
    const Node* node = g.node_by_id(ready.top());
    ready.pop();
    position[node->name()] = static_cast<int>(position.size());
    for (const Edge* e : node->out_edges()) {
      if (!back_edge(e) && --pending[e->dst->id()] == 0) ready.push(e->dst->id());
    }
  }
  std::vector<NodeDef> nodes(output.node().begin(), output.node().end());
  std::stable_sort(nodes.begin(), nodes.end(), [&](const NodeDef& a, const NodeDef& b) {
    return position[a.name()] < position[b.name()];
  });
  output.clear_node();
  for (NodeDef& node : nodes) output.add_node()->Swap(&node);
  return output;
}

std::string CompactGraphText(const GraphDef& graph) {
  std::string text;
  for (const NodeDef& node : graph.node()) {
    absl::StrAppend(&text, node.name(), " = ", node.op(), "(", absl::StrJoin(node.input(), ", "),
                    ")");
    if (!node.device().empty()) absl::StrAppend(&text, " @", node.device());
    text += "\n";
  }
  return text;
}

}  // namespace weir
