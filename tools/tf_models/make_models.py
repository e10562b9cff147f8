"""make_models.py - Writes real TensorFlow models, frozen, with inputs and TensorFlow's outputs,
for Weir's model tests (tests/runtime/models_test.cc) and benchmarks (tools/bench/bench.py).

Run by a developer (not CI), from the repository root, with TensorFlow installed:
    out/bench-venv/bin/python tools/tf_models/make_models.py [--only mobilenet_v2,bert_encoder]
                                                             [--out tests/models]

Each model goes to <out>/<name>/:
  model.pb          the frozen GraphDef (weights as Const, no variables)
  manifest.txt      one line per item, read by the test:
                      case <id>                 starts a case (inputs and expected outputs)
                      feed <node> <file.npy>    a Placeholder and the value to feed it
                      fetch <node> <file.npy>   a node to fetch and TensorFlow's output for it
                      error <fetch> <node> <message>  fetching <fetch> fails at <node>
                                                with TensorFlow's message (asserts)
  *.npy             the feeds and TensorFlow's outputs (float32 unless said otherwise)

Every model is built with fixed seeds (weights, BatchNorm statistics, inputs), so running the
script again writes the same numbers (up to TensorFlow's own nondeterminism in threaded
reductions, which is far below the tests' tolerances).

Models:
  mobilenet_v2   Keras MobileNetV2, alpha 0.35, 96x96x3 input, weights=None with seeded random
                 init, inference mode, BatchNorm moving statistics randomized so they matter.
                 To stay well under 2 MB the committed model stops after the last inverted-
                 residual block (block_16_project_BN) and adds global average pooling and a
                 10-class dense layer: Keras's final 1x1 conv to 1280 channels plus the
                 1000-class head would be 5.4 MB more of the same ops (mobilenet_v2(full=True)
                 builds the whole thing; the benchmarks use it). Output: logits, no softmax.
  resnet_small   ResNet-style CNN: stem conv, 3 stages (16, 32, 64 channels) of 2 basic blocks
                 each (conv-BN-ReLU-conv-BN + skip, 1x1 strided projection when the shape
                 changes), global average pool, dense 10; 32x32x3 input.
  bert_encoder   2-layer BERT-style encoder written with raw TF ops: hidden 64, 4 heads, FFN 128,
                 sequence 16; LayerNorm (mean/variance/rsqrt), GELU through Erf, attention with
                 BatchMatMulV2 and Softmax, an additive attention mask, residuals.
  cond_v1        tf.compat.v1.cond with control flow v1 (Switch/Merge): a dense layer, then a
                 predicate computed from a fed bool flag chooses between two branches (ReLU dense
                 vs tanh dense); two cases cover both branches.
  lstm           tf.compat.v1.nn.dynamic_rnn over an LSTMCell (a v1 while loop with TensorArray
                 ops), 8 steps, 6 input features, 16 units; the final output projected to 4.
  assert_v1      y = x * 2 behind tf.compat.v1.assert_greater / tf.debugging.assert_less /
                 assert_less on tf.size through control dependencies (string Consts as Assert
                 data), control flow v1: the float asserts sit in AssertGuard Switch/Merge
                 conditionals. Case 1 makes x > -100 fail: its manifest line
                   error <fetch> <Assert node> <TensorFlow's "assertion failed: ..." line>
                 says the run must fail naming that node with that message.
  assert_v2      the same with control flow v2 (AssertGuard is an If with function branches);
                 the error line names the If, whose name starts the lowered Assert's name.
"""
import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import \
    convert_variables_to_constants_v2

SEED = 1234


class Model:
    def __init__(self, name, out):
        self.dir = os.path.join(out, name)
        os.makedirs(self.dir, exist_ok=True)
        for f in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, f))
        self.lines = ["# written by tools/tf_models/make_models.py (TensorFlow %s)" %
                      tf.__version__]
        self.name = name

    def write_graph(self, gd):
        with open(os.path.join(self.dir, "model.pb"), "wb") as f:
            f.write(gd.SerializeToString())
        ops = sorted({n.op for n in gd.node})
        self.lines.append("# ops: " + " ".join(ops))

    def case(self, case_id, feeds, fetches):
        """feeds: {node: array}; fetches: {node: array} (TensorFlow's outputs)."""
        self.lines.append("case %s" % case_id)
        for kind, items in (("feed", feeds), ("fetch", fetches)):
            for node, value in items.items():
                fname = "%s_%s_%s.npy" % (case_id, kind, node.replace("/", "__"))
                np.save(os.path.join(self.dir, fname), np.asarray(value))
                self.lines.append("%s %s %s" % (kind, node, fname))

    def finish(self):
        with open(os.path.join(self.dir, "manifest.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
        size = sum(os.path.getsize(os.path.join(self.dir, f)) for f in os.listdir(self.dir))
        print("%-14s %7.1f KB  %s" % (self.name, size / 1024, self.lines[1]))


def freeze(fn, specs):
    """Freezes a tf.function over the given TensorSpecs; returns (GraphDef, concrete fn)."""
    concrete = tf.function(fn).get_concrete_function(*specs)
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def(), frozen


def output_names(frozen):
    return [t.name.split(":")[0] for t in frozen.outputs]


def randomize_batchnorm(model, rng):
    """weights=None leaves gamma=1, beta=0, mean=0, var=1: make every BatchNorm do something."""
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.uniform(-0.2, 0.2, beta.shape).astype(np.float32),
                rng.uniform(-0.2, 0.2, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])


def keras_model(name, out, model, input_shape, batch):
    rng = np.random.default_rng(SEED)
    randomize_batchnorm(model, rng)
    spec = tf.TensorSpec([None] + list(input_shape), tf.float32, name="x")
    gd, frozen = freeze(lambda x: {"logits": model(x, training=False)}, [spec])
    m = Model(name, out)
    m.write_graph(gd)
    x = rng.uniform(-1, 1, [batch] + list(input_shape)).astype(np.float32)
    (y,) = frozen(tf.constant(x))
    m.case("0", {"x": x}, {output_names(frozen)[0]: y.numpy()})
    m.finish()


def mobilenet_v2(full):
    """full: Keras's whole MobileNetV2 with a 1000-class head (for benchmarks, 6.7 MB). Otherwise
    (for the committed test, 1.3 MB) the same network up to block_16_project_BN (all 17
    inverted-residual blocks), then global average pooling and a 10-class dense layer: the final
    1x1 conv to 1280 channels and the head hold 70% of the weights and add no op Weir does not
    already run elsewhere in the network."""
    tf.keras.utils.set_random_seed(SEED)
    base = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                             weights=None, include_top=full,
                                             classifier_activation=None)
    if full:
        return base
    h = base.get_layer("block_16_project_BN").output
    h = tf.keras.layers.GlobalAveragePooling2D()(h)
    return tf.keras.Model(base.input, tf.keras.layers.Dense(10)(h))


def make_mobilenet_v2(out, full=False, batch=1, name="mobilenet_v2"):
    keras_model(name, out, mobilenet_v2(full), (96, 96, 3), batch=batch)


def make_resnet_small(out):
    tf.keras.utils.set_random_seed(SEED)
    L = tf.keras.layers
    inp = tf.keras.Input((32, 32, 3))
    h = L.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    h = L.ReLU()(L.BatchNormalization()(h))
    for stage, width in enumerate((16, 32, 64)):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            shortcut = h
            y = L.Conv2D(width, 3, strides=stride, padding="same", use_bias=False)(h)
            y = L.ReLU()(L.BatchNormalization()(y))
            y = L.Conv2D(width, 3, padding="same", use_bias=False)(y)
            y = L.BatchNormalization()(y)
            if stride != 1 or shortcut.shape[-1] != width:
                shortcut = L.Conv2D(width, 1, strides=stride, use_bias=False)(shortcut)
                shortcut = L.BatchNormalization()(shortcut)
            h = L.ReLU()(L.Add()([y, shortcut]))
    h = L.GlobalAveragePooling2D()(h)
    logits = L.Dense(10)(h)
    model = tf.keras.Model(inp, logits)
    keras_model("resnet_small", out, model, (32, 32, 3), batch=4)


def bert_encoder_graph(batch=None, layers=2, hidden=64, heads=4, ffn=128, seq=16):
    """The frozen encoder for inputs x [batch, seq, hidden] and mask [batch, seq] (batch None:
    any). Returns (GraphDef, frozen concrete function, the rng that made the LayerNorm
    weights, to draw inputs from next)."""
    tf.keras.utils.set_random_seed(SEED)
    init = tf.keras.initializers.TruncatedNormal(stddev=0.2)
    head = hidden // heads

    def var(shape, name, value=None):
        v = init(shape) if value is None else value
        return tf.Variable(v, name=name, dtype=tf.float32)

    rng = np.random.default_rng(SEED)
    weights = []
    for l in range(layers):
        w = {}
        for k in ("q", "k", "v", "o"):
            w[k] = var([hidden, hidden], "l%d_%s" % (l, k))
            w[k + "_b"] = var([hidden], "l%d_%s_b" % (l, k))
        w["ffn1"], w["ffn1_b"] = var([hidden, ffn], "l%d_ffn1" % l), var([ffn], "l%d_ffn1_b" % l)
        w["ffn2"], w["ffn2_b"] = var([ffn, hidden], "l%d_ffn2" % l), var([hidden], "l%d_ffn2_b" % l)
        for ln in ("ln1", "ln2"):
            w[ln + "_g"] = var([hidden], "", rng.uniform(0.8, 1.2, hidden).astype(np.float32))
            w[ln + "_b"] = var([hidden], "", rng.uniform(-0.1, 0.1, hidden).astype(np.float32))
        weights.append(w)

    def layer_norm(x, g, b):
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var_ = tf.reduce_mean(tf.math.squared_difference(x, mean), axis=-1, keepdims=True)
        return (x - mean) * tf.math.rsqrt(var_ + 1e-12) * g + b

    def gelu(x):
        return 0.5 * x * (1.0 + tf.math.erf(x / np.sqrt(2.0).astype(np.float32)))

    def dense(x, w, b):  # x: [B, S, in] -> [B, S, out] through a 2-D MatMul
        s = tf.shape(x)
        y = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), w) + b
        return tf.reshape(y, tf.concat([s[:2], [w.shape[-1]]], 0))

    def split_heads(x):  # [B, S, H] -> [B, heads, S, head]
        s = tf.shape(x)
        return tf.transpose(tf.reshape(x, [s[0], s[1], heads, head]), [0, 2, 1, 3])

    def encoder(x, mask):
        # mask: [B, S] with 1 = attend, 0 = padding -> additive [B, 1, 1, S]
        bias = (1.0 - mask)[:, tf.newaxis, tf.newaxis, :] * -10000.0
        h = x
        for w in weights:
            q, k, v = (split_heads(dense(h, w[n], w[n + "_b"])) for n in ("q", "k", "v"))
            scores = tf.matmul(q, k, transpose_b=True) * (1.0 / np.sqrt(head)) + bias
            ctx = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
            s = tf.shape(h)
            ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [s[0], s[1], hidden])
            h = layer_norm(h + dense(ctx, w["o"], w["o_b"]), w["ln1_g"], w["ln1_b"])
            f = dense(gelu(dense(h, w["ffn1"], w["ffn1_b"])), w["ffn2"], w["ffn2_b"])
            h = layer_norm(h + f, w["ln2_g"], w["ln2_b"])
        return {"encoded": h}

    gd, frozen = freeze(encoder, [tf.TensorSpec([batch, seq, hidden], tf.float32, name="x"),
                                  tf.TensorSpec([batch, seq], tf.float32, name="mask")])
    assert "BatchMatMulV2" in {n.op for n in gd.node}
    return gd, frozen, rng


def make_bert_encoder(out, hidden=64, seq=16, batch=2):
    gd, frozen, rng = bert_encoder_graph(None, hidden=hidden, seq=seq)
    m = Model("bert_encoder", out)
    m.write_graph(gd)
    x = rng.standard_normal((batch, seq, hidden)).astype(np.float32)
    mask = np.ones((batch, seq), np.float32)
    mask[1, seq - 5:] = 0  # the second sequence has 5 padding positions
    (y,) = frozen(tf.constant(x), tf.constant(mask))
    m.case("0", {"x": x, "mask": mask}, {output_names(frozen)[0]: y.numpy()})
    m.finish()


def v1_freeze(graph, sess, outputs):
    gd = tf.compat.v1.graph_util.convert_variables_to_constants(
        sess, graph.as_graph_def(), outputs)
    return gd


def make_cond_v1(out):
    rng = np.random.default_rng(SEED)
    w0 = rng.standard_normal((8, 16)).astype(np.float32) * 0.3
    w1 = rng.standard_normal((16, 4)).astype(np.float32) * 0.3
    w2 = rng.standard_normal((16, 4)).astype(np.float32) * 0.3
    tf.compat.v1.disable_control_flow_v2()
    try:
        g = tf.Graph()
        with g.as_default():
            x = tf.compat.v1.placeholder(tf.float32, [None, 8], name="x")
            flag = tf.compat.v1.placeholder(tf.bool, [], name="flag")
            h = tf.matmul(x, tf.constant(w0)) + 0.1
            pred = tf.logical_and(flag, tf.reduce_sum(h) > -1e9)
            y = tf.compat.v1.cond(pred,
                                  lambda: tf.nn.relu(tf.matmul(h, tf.constant(w1))),
                                  lambda: tf.tanh(tf.matmul(h, tf.constant(w2))) * 2.0)
            tf.identity(y, name="y")
            with tf.compat.v1.Session(graph=g) as sess:
                gd = v1_freeze(g, sess, ["y"])
                assert {"Switch", "Merge"} <= {n.op for n in gd.node}
                m = Model("cond_v1", out)
                m.write_graph(gd)
                for case, fv in enumerate([True, False]):
                    xv = rng.standard_normal((3, 8)).astype(np.float32)
                    yv = sess.run("y:0", {"x:0": xv, "flag:0": fv})
                    m.case(str(case), {"x": xv, "flag": np.array(fv)}, {"y": yv})
                m.finish()
    finally:
        tf.compat.v1.enable_control_flow_v2()


def make_lstm(out, steps=8, features=6, units=16, batch=3):
    rng = np.random.default_rng(SEED)
    tf.compat.v1.disable_control_flow_v2()
    try:
        g = tf.Graph()
        with g.as_default():
            tf.compat.v1.set_random_seed(SEED)
            x = tf.compat.v1.placeholder(tf.float32, [None, steps, features], name="x")
            cell = tf.compat.v1.nn.rnn_cell.LSTMCell(units, name="lstm_cell")
            outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            proj = tf.constant(rng.standard_normal((units, 4)).astype(np.float32) * 0.3)
            tf.identity(tf.matmul(state.h, proj), name="y")
            tf.identity(outputs, name="outputs")
            with tf.compat.v1.Session(graph=g) as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                gd = v1_freeze(g, sess, ["y", "outputs"])
                m = Model("lstm", out)
                m.write_graph(gd)
                xv = rng.standard_normal((batch, steps, features)).astype(np.float32)
                yv, ov = sess.run(["y:0", "outputs:0"], {"x:0": xv})
                m.case("0", {"x": xv}, {"y": yv, "outputs": ov})
                m.finish()
    finally:
        tf.compat.v1.enable_control_flow_v2()


def make_assert(out, name, control_flow_v1):
    """Asserts through control dependencies, as tf.debugging.assert_* writes them: y = x * 2
    waits on three asserts. Float data makes TensorFlow guard the Assert with a conditional
    (AssertGuard: Switch/Merge with control flow v1, an If with a function body with v2);
    int32-only data gives a bare Assert. Case 0 passes every assert; case 1 fails x > -100 and
    records the failing Assert node and TensorFlow's "assertion failed: ..." line."""
    if control_flow_v1:
        tf.compat.v1.disable_control_flow_v2()
    try:
        g = tf.Graph()
        with g.as_default():
            x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
            checks = [
                tf.compat.v1.assert_greater(x, tf.constant(-100.0), message="x must exceed -100",
                                            name="x_gt"),
                tf.debugging.assert_less(tf.reduce_max(x), 100.0, name="max_lt"),
                tf.compat.v1.assert_less(tf.size(x), 1000, message="too many elements",
                                         name="size_lt"),
            ]
            with tf.control_dependencies(checks):
                tf.identity(x * 2.0, name="y")
            with tf.compat.v1.Session(graph=g) as sess:
                gd = v1_freeze(g, sess, ["y"])
                ops = {n.op for n in gd.node} | {n.op for f in gd.library.function
                                                 for n in f.node_def}
                assert "Assert" in ops, ops
                assert ({"Switch", "Merge"} <= ops) == control_flow_v1, ops
                m = Model(name, out)
                m.write_graph(gd)
                good = np.array([1.5, 2.0, 3.25], np.float32)
                m.case("0", {"x": good}, {"y": sess.run("y:0", {"x:0": good})})
                bad = np.array([1.0, -200.0, 3.0], np.float32)
                try:
                    sess.run("y:0", {"x:0": bad})
                    raise AssertionError("the assert did not fire")
                except tf.errors.InvalidArgumentError as e:
                    line = [l for l in e.message.split("\n") if "assertion failed" in l][0]
                    if "Node: '" in e.message:
                        node = e.message.split("Node: '")[1].split("'")[0]
                    else:  # inside an If's branch function: name the If (Weir's lowered
                        # nodes start with its name)
                        node = [n.name for n in gd.node if n.op in ("If", "StatelessIf") and
                                n.name.startswith("x_gt/")][0]
                m.case("1", {"x": bad}, {})
                m.lines.append("error y %s %s" % (node, line.strip()))
                m.finish()
    finally:
        if control_flow_v1:
            tf.compat.v1.enable_control_flow_v2()


def make_tf2_text_graph(_):
    """Not a model folder: a TF2 graph in text form whose FunctionDefs keep arg_attr (field 7),
    for tests/graph/function_proto_test.cc (written to tests/graph/testdata/)."""
    @tf.function
    def f(x, n):
        y = tf.cond(n > 0, lambda: x * 2.0, lambda: x - 1.0)
        return tf.identity(y, name="y")

    gd = f.get_concrete_function(tf.TensorSpec([3], tf.float32, name="x"),
                                 tf.TensorSpec([], tf.int32, name="n")).graph.as_graph_def()
    assert any(fn.arg_attr for fn in gd.library.function)
    path = "tests/graph/testdata/tf2_function_arg_attr.pbtxt"
    with open(path, "w") as out:
        out.write("# written by tools/tf_models/make_models.py (TensorFlow %s): a tf.function "
                  "with tf.cond, FunctionDef.arg_attr kept\n" % tf.__version__)
        out.write(str(gd))
    print("wrote", path)


MODELS = {
    "mobilenet_v2": make_mobilenet_v2,
    "resnet_small": make_resnet_small,
    "bert_encoder": make_bert_encoder,
    "cond_v1": make_cond_v1,
    "lstm": make_lstm,
    "assert_v1": lambda out: make_assert(out, "assert_v1", control_flow_v1=True),
    "assert_v2": lambda out: make_assert(out, "assert_v2", control_flow_v1=False),
    "tf2_text_graph": make_tf2_text_graph,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/models")
    ap.add_argument("--only", default=",".join(MODELS))
    args = ap.parse_args()
    for name in args.only.split(","):
        MODELS[name](args.out)


if __name__ == "__main__":
    main()
