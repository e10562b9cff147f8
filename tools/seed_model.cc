// seed_model.cc - The brief's model, as tools/train.cc has always built it (node names kept:
// checkpoints and frozen graphs refer to them).
#include "tools/seed_model.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "builder/ops.h"
#include "builder/optimizers.h"
#include "builder/variables.h"

namespace weir {
namespace seed_model {

absl::StatusOr<GraphDef> Build(const Options& options) {
  std::unique_ptr<ops::Optimizer> optimizer;
  if (options.optimizer == "adam") {
    optimizer = std::make_unique<ops::AdamOptimizer>(options.learning_rate);
  } else if (options.optimizer == "momentum") {
    optimizer = std::make_unique<ops::MomentumOptimizer>(options.learning_rate, 0.9);
  } else if (options.optimizer == "sgd") {
    optimizer = std::make_unique<ops::GradientDescentOptimizer>(options.learning_rate);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("optimizer is '", options.optimizer, "', expected adam, momentum or sgd"));
  }
  Scope s = Scope::NewRootScope();
  s.SetGraphSeed(options.seed);
  const int64_t batch = options.batch_size;
  auto x = ops::Placeholder(s.WithOpName(kInput), DT_FLOAT, {batch, 784});
  auto labels = ops::Placeholder(s.WithOpName(kLabels), DT_INT32, {batch});
  auto dense = [&](const Scope& scope, const Output& in, int64_t fan_in, int64_t fan_out) {
    VariableRecord w = ops::Variable(scope.WithOpName("kernel"), {fan_in, fan_out}, DT_FLOAT,
                                     init::GlorotUniform());
    VariableRecord b = ops::Variable(scope.WithOpName("bias"), {fan_out}, DT_FLOAT, init::Zeros());
    return ops::BiasAdd(scope.WithOpName("BiasAdd"),
                        ops::MatMul(scope.WithOpName("MatMul"), in, w.value), b.value);
  };
  Scope hidden = s.NewSubScope("dense");
  auto h = ops::Relu(hidden.WithOpName("Relu"), dense(hidden, x, 784, options.hidden));
  auto logits = dense(s.NewSubScope("logits"), h, options.hidden, 10);
  ops::Softmax(s.WithOpName(kProbs), logits);
  auto xent = ops::SparseSoftmaxCrossEntropyWithLogits(s.WithOpName("xent"), logits, labels);
  auto loss = ops::Mean(s.WithOpName(kLoss), xent.loss, ops::Const(s.WithOpName("batch_axis"), 0));
  auto predicted = ops::ArgMax(s.WithOpName("predicted"), logits,
                               ops::Const(s.WithOpName("class_axis"), 1), DT_INT32);
  auto correct = ops::Cast(s.WithOpName("correct"),
                           ops::Equal(s.WithOpName("is_correct"), predicted, labels), DT_FLOAT);
  ops::Mean(s.WithOpName(kAccuracy), correct, ops::Const(s.WithOpName("accuracy_axis"), 0));

  absl::StatusOr<Operation> train = optimizer->Minimize(s.WithOpName(kTrainOp), loss);
  if (!train.ok()) return train.status();
  ops::GlobalVariablesInitializer(s.WithOpName(kInit));
  GraphDef graph;
  if (absl::Status st = s.ToGraphDef(&graph); !st.ok()) return st;
  return graph;
}

}  // namespace seed_model
}  // namespace weir
