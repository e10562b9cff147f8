// train.cc - `weir train`: the main job, training from C++ end to end.
//
// The model is built with the builder API (variables, gradients, an optimizer), trained by a
// session that runs one compiled plan per step, then checkpointed, frozen into an inference
// GraphDef and run through `weir run` like any saved graph.
#include "tools/train.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/graph_io.h"
#include "runtime/session.h"
#include "tools/cli.h"
#include "tools/npy.h"
#include "tools/seed_model.h"
#include "training/checkpoint.h"
#include "training/fashion_mnist.h"
#include "training/freeze.h"

namespace weir {

const char kTrainUsage[] =
    "  weir train [--epochs N] [--batch-size N] [--learning-rate F] [--seed N] [--out DIR]\n"
    "             [--hidden N] [--optimizer adam|momentum|sgd] [--data DIR] [--limit N]\n"
    "             [--threads N] [--predict N]\n"
    "      Trains 784 -> Dense(hidden, ReLU) -> Dense(10) on Fashion-MNIST (defaults: 5 epochs,\n"
    "      batch 32, Adam 1e-3, hidden 64, seed 42, data from Debian's dataset-fashion-mnist),\n"
    "      prints a progress bar per epoch and 'test accuracy: ...', writes DIR/model.ckpt,\n"
    "      DIR/train_graph.pbtxt and DIR/frozen.pb, then runs DIR/frozen.pb through `weir run`\n"
    "      on the first --predict test images and prints predicted vs true labels.\n";

namespace {

struct TrainFlags {
  int epochs = 5;
  int batch_size = 32;
  double learning_rate = 1e-3;
  int64_t seed = 42;
  std::string out_dir = "out/train";
  int hidden = 64;
  std::string optimizer = "adam";
  std::string data_dir = kFashionMnistDir;
  int64_t limit = 0;  // 0 = all 60,000 training images
  int threads = 0;
  int predict = 10;
};

std::string ParseFlags(const std::vector<std::string>& args, TrainFlags* f) {
  for (size_t i = 1; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (size_t eq = flag.find('='); absl::StartsWith(flag, "--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::StrCat(flag, " needs a value");
    }
    bool ok = true;
    if (flag == "--epochs") {
      ok = absl::SimpleAtoi(value, &f->epochs) && f->epochs > 0;
    } else if (flag == "--batch-size") {
      ok = absl::SimpleAtoi(value, &f->batch_size) && f->batch_size > 0;
    } else if (flag == "--learning-rate") {
      ok = absl::SimpleAtod(value, &f->learning_rate) && f->learning_rate > 0;
    } else if (flag == "--seed") {
      ok = absl::SimpleAtoi(value, &f->seed) && f->seed != 0;
    } else if (flag == "--out") {
      f->out_dir = value;
    } else if (flag == "--hidden") {
      ok = absl::SimpleAtoi(value, &f->hidden) && f->hidden > 0;
    } else if (flag == "--optimizer") {
      f->optimizer = value;
      ok = value == "adam" || value == "momentum" || value == "sgd";
    } else if (flag == "--data") {
      f->data_dir = value;
    } else if (flag == "--limit") {
      ok = absl::SimpleAtoi(value, &f->limit) && f->limit >= 0;
    } else if (flag == "--threads") {
      ok = absl::SimpleAtoi(value, &f->threads) && f->threads >= 0;
    } else if (flag == "--predict") {
      ok = absl::SimpleAtoi(value, &f->predict) && f->predict >= 0;
    } else {
      return absl::StrCat("unknown flag '", flag, "' for weir train");
    }
    if (!ok) return absl::StrCat("bad value '", value, "' for ", flag);
  }
  return "";
}

struct Dataset {
  Tensor images;  // [n, 784] float in [0, 1]
  Tensor labels;  // [n] int32
  int64_t size() const { return labels.num_elements(); }
};

absl::StatusOr<Dataset> LoadSplit(const std::string& dir, const std::string& prefix, int64_t limit) {
  absl::StatusOr<IdxImages> pixels =
      ReadIdxImages(absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte.gz"), limit);
  if (!pixels.ok()) return pixels.status();
  absl::StatusOr<std::vector<uint8_t>> labels =
      ReadIdxLabels(absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte.gz"), limit);
  if (!labels.ok()) return labels.status();
  if (static_cast<int64_t>(labels->size()) != pixels->count) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, ": ", pixels->count, " images but ",
                                                   labels->size(), " labels"));
  }
  Dataset d;
  const int64_t features = pixels->rows * pixels->cols;
  d.images = Tensor(DT_FLOAT, {pixels->count, features});
  float* x = d.images.data<float>();
  for (size_t i = 0; i < pixels->pixels.size(); ++i) x[i] = pixels->pixels[i] / 255.f;
  d.labels = Tensor(DT_INT32, {pixels->count});
  for (size_t i = 0; i < labels->size(); ++i) d.labels.data<int32_t>()[i] = (*labels)[i];
  return d;
}

// The node names the rest of the job uses (tools/seed_model.h builds the graph).
using seed_model::kAccuracy;
using seed_model::kInit;
using seed_model::kInput;
using seed_model::kLabels;
using seed_model::kLoss;
using seed_model::kProbs;
using seed_model::kTrainOp;

absl::StatusOr<GraphDef> BuildModel(const TrainFlags& f) {
  seed_model::Options options;
  options.hidden = f.hidden;
  options.learning_rate = f.learning_rate;
  options.seed = f.seed;
  options.optimizer = f.optimizer;
  return seed_model::Build(options);
}

// Copies rows `order[begin, begin + n)` of a dataset into batch tensors.
void Gather(const Dataset& d, const std::vector<int64_t>& order, int64_t begin, int64_t n,
            Tensor* x, Tensor* y) {
  const int64_t features = d.images.dim(1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = order[begin + i];
    std::copy_n(d.images.data<float>() + row * features, features, x->data<float>() + i * features);
    y->data<int32_t>()[i] = d.labels.data<int32_t>()[row];
  }
}

// "epoch 2/5  1200/1875 [==========>         ] loss 0.4123 accuracy 0.8512 21034 examples/s"
std::string ProgressLine(int epoch, int epochs, int64_t step, int64_t steps, double loss,
                         double accuracy, double examples_per_s) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(1, steps));
  std::string bar(kWidth, ' ');
  for (int i = 0; i < filled; ++i) bar[i] = '=';
  if (filled < kWidth) bar[filled] = '>';
  return absl::StrFormat("epoch %d/%d %5d/%d [%s] loss %.4f accuracy %.4f %.0f examples/s", epoch,
                         epochs, step, steps, bar, loss, accuracy, examples_per_s);
}

absl::StatusOr<double> Evaluate(Session& session, const Dataset& d) {
  constexpr int64_t kBatch = 1000;
  std::vector<int64_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  double correct = 0;
  for (int64_t begin = 0; begin < d.size(); begin += kBatch) {
    const int64_t n = std::min(kBatch, d.size() - begin);
    Tensor x(DT_FLOAT, {n, d.images.dim(1)}), y(DT_INT32, {n});
    Gather(d, order, begin, n, &x, &y);
    std::vector<Tensor> out;
    if (auto s = session.Run({{kInput, x}, {kLabels, y}}, {kAccuracy}, {}, &out); !s.ok()) return s;
    correct += out[0].data<float>()[0] * static_cast<double>(n);
  }
  return correct / static_cast<double>(d.size());
}

int Fail(std::ostream& err, const absl::Status& status) {
  err << "weir: error: " << status.message() << "\n";
  return 1;
}

}  // namespace

int TrainCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  TrainFlags f;
  if (std::string e = ParseFlags(args, &f); !e.empty()) {
    err << "weir: error: " << e << "\nusage:\n" << kTrainUsage;
    return 2;
  }
  struct stat st;
  if (stat(f.out_dir.c_str(), &st) != 0 && mkdir(f.out_dir.c_str(), 0755) != 0) {
    return Fail(err, absl::PermissionDeniedError(
                         absl::StrCat("cannot create output directory '", f.out_dir, "'")));
  }
  absl::StatusOr<Dataset> train = LoadSplit(f.data_dir, "train", f.limit);
  if (!train.ok()) return Fail(err, train.status());
  absl::StatusOr<Dataset> test = LoadSplit(f.data_dir, "t10k", 0);
  if (!test.ok()) return Fail(err, test.status());
  out << "data: " << train->size() << " training and " << test->size() << " test images from "
      << f.data_dir << "\n";

  absl::StatusOr<GraphDef> graph = BuildModel(f);
  if (!graph.ok()) return Fail(err, graph.status());
  const std::string graph_path = absl::StrCat(f.out_dir, "/train_graph.pbtxt");
  if (auto s = WriteGraphDef(graph_path, *graph); !s.ok()) return Fail(err, s);
  SessionOptions options;
  options.inter_op_threads = f.threads;
  options.intra_op_threads = f.threads;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*graph, options);
  if (!session.ok()) return Fail(err, session.status());
  std::vector<Tensor> outputs;
  if (auto s = (*session)->Run({}, {}, {kInit}, &outputs); !s.ok()) return Fail(err, s);
  out << "model: 784 -> Dense(" << f.hidden << ", ReLU) -> Dense(10), " << f.optimizer
      << " learning rate " << f.learning_rate << ", batch " << f.batch_size << ", seed " << f.seed
      << " (" << graph->node_size() << " nodes, graph in " << graph_path << ")\n";

  const bool tty = isatty(STDERR_FILENO);
  std::mt19937_64 rng(static_cast<uint64_t>(f.seed));
  std::vector<int64_t> order(train->size());
  std::iota(order.begin(), order.end(), 0);
  const int64_t steps = (train->size() + f.batch_size - 1) / f.batch_size;
  Tensor x(DT_FLOAT, {f.batch_size, 784}), y(DT_INT32, {f.batch_size});
  using Clock = std::chrono::steady_clock;
  double total_seconds = 0;
  for (int epoch = 1; epoch <= f.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0, acc_sum = 0;
    int64_t seen = 0;
    const auto start = Clock::now();
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t begin = step * f.batch_size;
      const int64_t n = std::min<int64_t>(f.batch_size, train->size() - begin);
      Tensor bx = x, by = y;
      if (n != f.batch_size) bx = Tensor(DT_FLOAT, {n, 784}), by = Tensor(DT_INT32, {n});
      Gather(*train, order, begin, n, &bx, &by);
      if (auto s = (*session)->Run({{kInput, bx}, {kLabels, by}}, {kLoss, kAccuracy}, {kTrainOp},
                                   &outputs);
          !s.ok()) {
        return Fail(err, s);
      }
      loss_sum += outputs[0].data<float>()[0] * n;
      acc_sum += outputs[1].data<float>()[0] * n;
      seen += n;
      if (tty && (step % 50 == 0 || step + 1 == steps)) {
        const double s = std::chrono::duration<double>(Clock::now() - start).count();
        err << "\r" << ProgressLine(epoch, f.epochs, step + 1, steps, loss_sum / seen, acc_sum / seen,
                                    seen / std::max(s, 1e-9))
            << std::flush;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    total_seconds += seconds;
    if (tty) err << "\r" << std::string(110, ' ') << "\r" << std::flush;
    out << ProgressLine(epoch, f.epochs, steps, steps, loss_sum / seen, acc_sum / seen,
                        seen / std::max(seconds, 1e-9))
        << absl::StrFormat(" %.2f s", seconds) << "\n";
    out.flush();
  }
  out << absl::StrFormat("training: %.2f s, %.0f examples/s\n", total_seconds,
                         static_cast<double>(train->size()) * f.epochs / std::max(total_seconds, 1e-9));

  absl::StatusOr<double> accuracy = Evaluate(**session, *test);
  if (!accuracy.ok()) return Fail(err, accuracy.status());
  out << absl::StrFormat("test accuracy: %.4f\n", *accuracy);

  const std::string ckpt = absl::StrCat(f.out_dir, "/model.ckpt");
  if (auto s = SaveVariables(**session, ckpt); !s.ok()) return Fail(err, s);
  out << "checkpoint: " << ckpt << "\n";
  absl::StatusOr<GraphDef> frozen = FreezeSession(**session, *graph, {kProbs});
  if (!frozen.ok()) return Fail(err, frozen.status());
  const std::string frozen_path = absl::StrCat(f.out_dir, "/frozen.pb");
  if (auto s = WriteGraphDef(frozen_path, *frozen); !s.ok()) return Fail(err, s);
  out << "frozen graph: " << frozen_path << " (" << frozen->node_size() << " nodes)\n";
  if (f.predict == 0) return 0;

  // Serve a few test images from the frozen graph, exactly as a user would with `weir run`.
  const int64_t n = std::min<int64_t>(f.predict, test->size());
  Tensor px(DT_FLOAT, {n, 784}), py(DT_INT32, {n});
  std::vector<int64_t> first(n);
  std::iota(first.begin(), first.end(), 0);
  Gather(*test, first, 0, n, &px, &py);
  const std::string images = absl::StrCat(f.out_dir, "/images.npy");
  if (auto s = WriteNpy(images, px); !s.ok()) return Fail(err, s);
  if (auto s = WriteNpy(absl::StrCat(f.out_dir, "/labels.npy"), py); !s.ok()) return Fail(err, s);
  std::vector<std::string> run = {"run",   frozen_path, "--feed", absl::StrCat(kInput, "=", images),
                                  "--fetch", kProbs,    "--out",  f.out_dir};
  out << "== weir run " << frozen_path << " --feed " << kInput << "=" << images << " --fetch "
      << kProbs << " --out " << f.out_dir << "\n";
  if (int rc = RunCli(run, out, err); rc != 0) return rc;
  absl::StatusOr<Tensor> probs = ReadNpy(absl::StrCat(f.out_dir, "/", FetchFileName(kProbs)));
  if (!probs.ok()) return Fail(err, probs.status());
  int correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* p = probs->data<float>() + i * 10;
    const int best = static_cast<int>(std::max_element(p, p + 10) - p);
    const int truth = py.data<int32_t>()[i];
    correct += best == truth;
    out << absl::StrFormat("image %3d: predicted %-11s (p=%.3f)  true %-11s %s\n", i,
                           kFashionMnistClasses[best], p[best], kFashionMnistClasses[truth],
                           best == truth ? "ok" : "");
  }
  out << correct << "/" << n << " correct\n";
  return 0;
}

}  // namespace weir
