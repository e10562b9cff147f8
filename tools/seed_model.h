// seed_model.h - The project brief's model as a training graph: 784 -> Dense(hidden, ReLU) ->
// Dense(10), sparse softmax cross-entropy, an optimizer step and an initializer, built with the
// builder API. `weir train` trains it; the GPU training test and gpu_bench's train_step build the
// same graph with a static batch (so Shape and Size of the batch fold away at compile time).
#ifndef WEIR_TOOLS_SEED_MODEL_H_
#define WEIR_TOOLS_SEED_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/graph.pb.h"

namespace weir {
namespace seed_model {

// The node names callers feed, fetch and run.
inline constexpr char kInput[] = "x";            // float [batch, 784] (Placeholder)
inline constexpr char kLabels[] = "labels";      // int32 [batch] (Placeholder)
inline constexpr char kProbs[] = "probs";        // float [batch, 10] softmax
inline constexpr char kLoss[] = "loss";          // float scalar: mean cross-entropy
inline constexpr char kAccuracy[] = "accuracy";  // float scalar
inline constexpr char kTrainOp[] = "train";      // one optimizer step
inline constexpr char kInit[] = "init";          // initializes every variable and slot

// The trainable variables, named as TensorFlow names them.
inline constexpr const char* kVariables[] = {"dense/kernel", "dense/bias", "logits/kernel",
                                             "logits/bias"};

struct Options {
  // The placeholders' batch dimension: -1 (any batch, as `weir train` feeds a short last
  // batch) or a fixed size.
  int64_t batch_size = -1;
  int hidden = 64;
  double learning_rate = 1e-3;
  // The graph seed: the variables' initial values follow from it.
  int64_t seed = 42;
  std::string optimizer = "adam";  // adam, momentum (0.9) or sgd
};

// The training graph; InvalidArgument for an unknown optimizer.
absl::StatusOr<GraphDef> Build(const Options& options);

}  // namespace seed_model
}  // namespace weir

#endif  // WEIR_TOOLS_SEED_MODEL_H_
