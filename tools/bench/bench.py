#!/usr/bin/env python3
"""Weir vs TensorFlow (Session) vs ONNX Runtime on the same workloads.

Each workload is defined once, with fixed-seed numpy weights, and turned into
  (a) a frozen TF GraphDef (tf.compat.v1 graph ops: Placeholder inputs, Const weights), .pb
  (b) an equivalent ONNX model with the same weights (built with onnx.helper)
  (c) input .npy files
under OUT/models/<workload>/. Then, for each thread count:
  * Weir's output (`weir run --out`) is checked against TensorFlow's (1e-4 relative),
  * TensorFlow (tf.compat.v1.Session.run on the same GraphDef) and ONNX Runtime
    (ORT_ENABLE_ALL) are timed in-process in a child process per thread count (TF's intra-op
    pool is process-global, so thread counts must not share a process),
  * Weir is timed with `weir bench ... --threads N` (median_us parsed).
Results: a table on stdout and OUT/results.md + OUT/results.json.

Usage: bench.py --weir bazel-bin/tools/weir [--out out/bench] [--quick] [--threads 1,2]
                [--only noop,chain,...]
Normally run through tools/bench/run_bench.sh, which prepares the virtual environment.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np

# Ops the TF GraphDefs may contain (checked after building each graph).
ALLOWED_TF_OPS = {"Placeholder", "Const", "AddV2", "AddN", "MatMul", "BiasAdd", "Relu", "Tanh",
                  "Softmax", "Conv2D", "MaxPool", "Reshape", "Identity"}
RTOL = 1e-4
ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # onnxruntime 1.17 reads IR <= 9; onnx 1.16 would default to 10


# --------------------------------------------------------------------------------------------
# Workload definitions: weights and inputs, once. Every builder returns a dict with
#   inputs:  {name: np.ndarray}         (NHWC / TF layout)
#   fetch:   name of the output node
#   tf:      fn(tf) -> None, builds the graph in the current default graph
#   onnx:    fn(onnx) -> ModelProto
#   flops:   float or None
#   nodes:   number of compute nodes (for per-node cost), optional
# --------------------------------------------------------------------------------------------

def glorot(rng, fan_in, fan_out, shape):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=shape).astype(np.float32)


def _onnx_model(onnx, nodes, inputs, outputs, initializers, name):
    from onnx import helper
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                              producer_name="weir-bench")
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    return model


def _vi(name, arr_or_shape):
    from onnx import TensorProto, helper
    shape = arr_or_shape.shape if hasattr(arr_or_shape, "shape") else arr_or_shape
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _init(name, arr):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def wl_noop():
    c = np.arange(4, dtype=np.float32)

    def build_tf(tf):
        tf.constant(c, name="output")

    def build_onnx(onnx):
        from onnx import helper
        # A Constant node feeding an Identity: the graph output is computed per Run.
        nodes = [helper.make_node("Constant", [], ["c"], value=_init("cv", c)),
                 helper.make_node("Identity", ["c"], ["output"])]
        return _onnx_model(onnx, nodes, [], [_vi("output", c)], [], "noop")

    return dict(inputs={}, fetch="output", tf=build_tf, onnx=build_onnx, flops=None, nodes=1)


def wl_chain(n=2000):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(16).astype(np.float32)
    cs = [rng.uniform(-1e-3, 1e-3, size=16).astype(np.float32) for _ in range(4)]

    def build_tf(tf):
        y = tf.compat.v1.placeholder(tf.float32, [16], name="x")
        consts = [tf.constant(c, name=f"c{k}") for k, c in enumerate(cs)]
        for i in range(n):
            y = tf.raw_ops.AddV2(x=y, y=consts[i % len(cs)],
                                 name="output" if i == n - 1 else f"add{i}")

    def build_onnx(onnx):
        from onnx import helper
        nodes, prev = [], "x"
        for i in range(n):
            out = "output" if i == n - 1 else f"add{i}"
            nodes.append(helper.make_node("Add", [prev, f"c{i % len(cs)}"], [out]))
            prev = out
        inits = [_init(f"c{k}", c) for k, c in enumerate(cs)]
        return _onnx_model(onnx, nodes, [_vi("x", x)], [_vi("output", [16])], inits, "chain")

    return dict(inputs={"x": x}, fetch="output", tf=build_tf, onnx=build_onnx, flops=None,
                nodes=n)


def wl_wide(branches=64, m=64, k=256, n=256):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((m, k)).astype(np.float32)
    ws = [glorot(rng, k, n, (k, n)) for _ in range(branches)]

    def build_tf(tf):
        xp = tf.compat.v1.placeholder(tf.float32, [m, k], name="x")
        outs = []
        for i, w in enumerate(ws):
            mm = tf.raw_ops.MatMul(a=xp, b=tf.constant(w, name=f"w{i}"), name=f"mm{i}")
            outs.append(tf.raw_ops.Tanh(x=mm, name=f"tanh{i}"))
        tf.raw_ops.AddN(inputs=outs, name="output")

    def build_onnx(onnx):
        from onnx import helper
        nodes = []
        for i in range(branches):
            nodes.append(helper.make_node("MatMul", ["x", f"w{i}"], [f"mm{i}"]))
            nodes.append(helper.make_node("Tanh", [f"mm{i}"], [f"tanh{i}"]))
        nodes.append(helper.make_node("Sum", [f"tanh{i}" for i in range(branches)], ["output"]))
        inits = [_init(f"w{i}", w) for i, w in enumerate(ws)]
        return _onnx_model(onnx, nodes, [_vi("x", x)], [_vi("output", [m, n])], inits, "wide")

    return dict(inputs={"x": x}, fetch="output", tf=build_tf, onnx=build_onnx,
                flops=2.0 * branches * m * k * n, nodes=2 * branches + 1)


def wl_mlp(batch):
    rng = np.random.default_rng(3)
    dims = [784, 512, 512, 10]
    ws = [glorot(rng, a, b, (a, b)) for a, b in zip(dims[:-1], dims[1:])]
    bs = [rng.uniform(-0.1, 0.1, size=b).astype(np.float32) for b in dims[1:]]
    x = rng.uniform(0, 1, size=(batch, 784)).astype(np.float32)

    def build_tf(tf):
        h = tf.compat.v1.placeholder(tf.float32, [batch, 784], name="x")
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = tf.raw_ops.MatMul(a=h, b=tf.constant(w, name=f"w{i}"), name=f"mm{i}")
            h = tf.raw_ops.BiasAdd(value=h, bias=tf.constant(b, name=f"b{i}"), name=f"bias{i}")
            if i < len(ws) - 1:
                h = tf.raw_ops.Relu(features=h, name=f"relu{i}")
        tf.raw_ops.Softmax(logits=h, name="output")

    def build_onnx(onnx):
        from onnx import helper
        nodes, prev = [], "x"
        for i in range(len(ws)):
            nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"mm{i}"]))
            nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"bias{i}"]))
            prev = f"bias{i}"
            if i < len(ws) - 1:
                nodes.append(helper.make_node("Relu", [prev], [f"relu{i}"]))
                prev = f"relu{i}"
        nodes.append(helper.make_node("Softmax", [prev], ["output"], axis=-1))
        inits = [_init(f"w{i}", w) for i, w in enumerate(ws)] + \
                [_init(f"b{i}", b) for i, b in enumerate(bs)]
        return _onnx_model(onnx, nodes, [_vi("x", x)], [_vi("output", [batch, 10])], inits,
                           "mlp")

    flops = 2.0 * batch * sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    return dict(inputs={"x": x}, fetch="output", tf=build_tf, onnx=build_onnx, flops=flops,
                nodes=3 * 3)


def wl_cnn(batch):
    """conv3x3(32)-relu-conv3x3(32)-relu-maxpool2-conv3x3(64)-relu-conv3x3(64)-relu-maxpool2
    -flatten-dense(10), 32x32x3 NHWC, SAME padding. ONNX runs the same net in NCHW (its native
    Conv layout): the input is fed transposed and the dense weight rows are permuted, so the
    output is identical."""
    rng = np.random.default_rng(4)
    chans = [(3, 32), (32, 32), (32, 64), (64, 64)]
    filters = [glorot(rng, 9 * ci, 9 * co, (3, 3, ci, co)) for ci, co in chans]  # HWIO
    biases = [rng.uniform(-0.1, 0.1, size=co).astype(np.float32) for _, co in chans]
    dense_w = glorot(rng, 8 * 8 * 64, 10, (8 * 8 * 64, 10))  # rows in NHWC flatten order
    dense_b = rng.uniform(-0.1, 0.1, size=10).astype(np.float32)
    x = rng.uniform(0, 1, size=(batch, 32, 32, 3)).astype(np.float32)

    def build_tf(tf):
        h = tf.compat.v1.placeholder(tf.float32, [batch, 32, 32, 3], name="x")
        for i, (f, b) in enumerate(zip(filters, biases)):
            h = tf.raw_ops.Conv2D(input=h, filter=tf.constant(f, name=f"k{i}"),
                                  strides=[1, 1, 1, 1], padding="SAME", data_format="NHWC",
                                  name=f"conv{i}")
            h = tf.raw_ops.BiasAdd(value=h, bias=tf.constant(b, name=f"kb{i}"), name=f"cb{i}")
            h = tf.raw_ops.Relu(features=h, name=f"relu{i}")
            if i % 2 == 1:
                h = tf.raw_ops.MaxPool(input=h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                       padding="VALID", data_format="NHWC", name=f"pool{i}")
        h = tf.raw_ops.Reshape(tensor=h, shape=tf.constant(np.array([batch, 8 * 8 * 64],
                                                                    np.int32), name="flat_shape"),
                               name="flatten")
        h = tf.raw_ops.MatMul(a=h, b=tf.constant(dense_w, name="dw"), name="dense")
        tf.raw_ops.BiasAdd(value=h, bias=tf.constant(dense_b, name="db"), name="output")

    def build_onnx(onnx):
        from onnx import helper
        nodes, inits, prev = [], [], "x_nchw"
        for i, (f, b) in enumerate(zip(filters, biases)):
            inits += [_init(f"k{i}", f.transpose(3, 2, 0, 1)), _init(f"kb{i}", b)]  # OIHW
            nodes.append(helper.make_node("Conv", [prev, f"k{i}", f"kb{i}"], [f"conv{i}"],
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                          strides=[1, 1]))
            nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]))
            prev = f"relu{i}"
            if i % 2 == 1:
                nodes.append(helper.make_node("MaxPool", [prev], [f"pool{i}"],
                                              kernel_shape=[2, 2], strides=[2, 2]))
                prev = f"pool{i}"
        # NCHW flatten order is (c, h, w); permute the NHWC-ordered (h, w, c) rows to match.
        dw = dense_w.reshape(8, 8, 64, 10).transpose(2, 0, 1, 3).reshape(8 * 8 * 64, 10)
        inits += [_init("flat_shape", np.array([batch, 8 * 8 * 64], np.int64)),
                  _init("dw", dw), _init("db", dense_b)]
        nodes += [helper.make_node("Reshape", [prev, "flat_shape"], ["flatten"]),
                  helper.make_node("MatMul", ["flatten", "dw"], ["dense"]),
                  helper.make_node("Add", ["dense", "db"], ["output"])]
        return _onnx_model(onnx, nodes, [_vi("x_nchw", [batch, 3, 32, 32])],
                           [_vi("output", [batch, 10])], inits, "cnn")

    flops = 2.0 * batch * (32 * 32 * 32 * 27 + 32 * 32 * 32 * 288 + 16 * 16 * 64 * 288 +
                           16 * 16 * 64 * 576 + 4096 * 10)
    return dict(inputs={"x": x}, fetch="output", tf=build_tf, onnx=build_onnx, flops=flops,
                onnx_inputs={"x_nchw": np.ascontiguousarray(x.transpose(0, 3, 1, 2))},
                nodes=None)


def wl_gemm(n=1024):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)

    def build_tf(tf):
        ap = tf.compat.v1.placeholder(tf.float32, [n, n], name="a")
        tf.raw_ops.MatMul(a=ap, b=tf.constant(b, name="b"), name="output")

    def build_onnx(onnx):
        from onnx import helper
        nodes = [helper.make_node("MatMul", ["a", "b"], ["output"])]
        return _onnx_model(onnx, nodes, [_vi("a", a)], [_vi("output", [n, n])], [_init("b", b)],
                           "gemm")

    return dict(inputs={"a": a}, fetch="output", tf=build_tf, onnx=build_onnx,
                flops=2.0 * n * n * n, nodes=1)


def wl_frozen_model(kind, batch):
    """A real model frozen by tools/tf_models/make_models.py (MobileNetV2 alpha 0.35 at 96x96 with
    Keras's full 1000-class head; the 2-layer BERT-style encoder, hidden 64, sequence 16) at a
    fixed batch. The ONNX model is converted from the same frozen GraphDef (tf_to_onnx.py)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "tf_models"))
    import make_models  # noqa: E402 - needs TensorFlow, imported only for these workloads
    import tensorflow as tf
    rng = np.random.default_rng(11)
    if kind == "mobilenet":
        model = make_models.mobilenet_v2(full=True)
        make_models.randomize_batchnorm(model, np.random.default_rng(make_models.SEED))
        spec = [tf.TensorSpec([batch, 96, 96, 3], tf.float32, name="x")]
        gd, frozen = make_models.freeze(lambda x: {"logits": model(x, training=False)}, spec)
        inputs = {"x": rng.uniform(-1, 1, (batch, 96, 96, 3)).astype(np.float32)}
    else:
        gd, frozen, _ = make_models.bert_encoder_graph(batch)
        x = rng.standard_normal((batch, 16, 64)).astype(np.float32)
        inputs = {"x": x, "mask": np.ones((batch, 16), np.float32)}
    fetch = make_models.output_names(frozen)[0]

    def build_onnx(onnx):
        from tf_to_onnx import convert
        return convert(gd, inputs, fetch, opset=ONNX_OPSET, ir_version=ONNX_IR_VERSION)

    return dict(inputs=inputs, fetch=fetch, graph_def=gd, onnx=build_onnx, flops=None,
                nodes=len(gd.node))


WORKLOADS = {
    "noop": wl_noop,
    "chain": wl_chain,
    "wide": wl_wide,
    "mlp_b1": lambda: wl_mlp(1),
    "mlp_b64": lambda: wl_mlp(64),
    "cnn_b1": lambda: wl_cnn(1),
    "cnn_b32": lambda: wl_cnn(32),
    "gemm": wl_gemm,
    "mobilenet_v2_b1": lambda: wl_frozen_model("mobilenet", 1),
    "mobilenet_v2_b32": lambda: wl_frozen_model("mobilenet", 32),
    "bert_encoder_b1": lambda: wl_frozen_model("bert", 1),
    "bert_encoder_b32": lambda: wl_frozen_model("bert", 32),
}
# Real frozen models: not in the default run (they need TensorFlow to build); ask with --only.
DEFAULT_WORKLOADS = [n for n in WORKLOADS if not n.startswith(("mobilenet", "bert"))]


# --------------------------------------------------------------------------------------------
# Artifact generation
# --------------------------------------------------------------------------------------------

def generate(names, models_dir):
    import onnx
    import tensorflow as tf
    meta = {}
    for name in names:
        wl = WORKLOADS[name]()
        d = os.path.join(models_dir, name)
        os.makedirs(d, exist_ok=True)
        if "graph_def" in wl:  # a real frozen model: its ops are whatever TensorFlow wrote
            gd = wl["graph_def"]
            ops = {n.op for n in gd.node}
        else:
            g = tf.Graph()
            with g.as_default():
                wl["tf"](tf)
            gd = g.as_graph_def()
            ops = {n.op for n in gd.node}
        bad = ops - ALLOWED_TF_OPS if "graph_def" not in wl else set()
        if bad:
            raise SystemExit(f"{name}: GraphDef has ops outside the allowed set: {sorted(bad)}")
        with open(os.path.join(d, "model.pb"), "wb") as f:
            f.write(gd.SerializeToString())
        onnx.save(wl["onnx"](onnx), os.path.join(d, "model.onnx"))
        feeds = {}
        for k, v in wl["inputs"].items():
            np.save(os.path.join(d, f"{k}.npy"), v)
            feeds[k] = os.path.join(d, f"{k}.npy")
        onnx_feeds = {}
        for k, v in wl.get("onnx_inputs", wl["inputs"]).items():
            p = os.path.join(d, f"onnx_{k}.npy")
            np.save(p, v)
            onnx_feeds[k] = p
        meta[name] = dict(dir=d, pb=os.path.join(d, "model.pb"),
                          onnx=os.path.join(d, "model.onnx"), feeds=feeds,
                          onnx_feeds=onnx_feeds, fetch=wl["fetch"], flops=wl["flops"],
                          nodes=wl["nodes"], tf_ops=sorted(ops), tf_nodes=len(gd.node))
    return meta


# --------------------------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------------------------

def time_fn(fn, budget_s, max_runs, min_runs, warmup):
    """Warm-up, then timed runs until max_runs or the time budget (but >= min_runs).
    Returns (median_us, p10_us, p90_us, runs)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_runs:
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e3)
        if len(times) >= min_runs and time.perf_counter() - start > budget_s:
            break
    times.sort()
    pct = lambda p: times[min(int(p * (len(times) - 1) + 0.5), len(times) - 1)]
    return pct(0.5), pct(0.1), pct(0.9), len(times)


def peers_worker(meta, threads, budget_s, max_runs, min_runs, warmup, out_json):
    """Child process: TF and ORT timings (and TF reference outputs) at one thread count."""
    import onnxruntime as ort
    import tensorflow as tf
    res = {}
    for name, m in meta.items():
        r = res[name] = {}
        feeds = {k: np.load(p) for k, p in m["feeds"].items()}
        # --- TensorFlow
        try:
            gd = tf.compat.v1.GraphDef()
            with open(m["pb"], "rb") as f:
                gd.ParseFromString(f.read())
            g = tf.Graph()
            with g.as_default():
                tf.compat.v1.import_graph_def(gd, name="")
            cfg = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=threads,
                                           intra_op_parallelism_threads=threads)
            sess = tf.compat.v1.Session(graph=g, config=cfg)
            fetch = g.get_tensor_by_name(m["fetch"] + ":0")
            fd = {g.get_tensor_by_name(k + ":0"): v for k, v in feeds.items()}
            ref = sess.run(fetch, feed_dict=fd)
            ref_path = os.path.join(m["dir"], f"tf_out_t{threads}.npy")
            np.save(ref_path, ref)
            r["tf_ref"] = ref_path
            med, p10, p90, n = time_fn(lambda: sess.run(fetch, feed_dict=fd), budget_s,
                                       max_runs, min_runs, warmup)
            r["tf"] = dict(median_us=med, p10_us=p10, p90_us=p90, runs=n)
            sess.close()
        except Exception as e:  # noqa: BLE001 - report and continue
            r["tf"] = dict(error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
        # --- ONNX Runtime
        try:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = threads
            # ORT's default and recommended mode; inter_op threads only matter in ORT_PARALLEL,
            # which oversubscribes 2 cores (intra + inter pools both spin).
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(m["onnx"], sess_options=so,
                                        providers=["CPUExecutionProvider"])
            ofeeds = {k: np.load(p) for k, p in m["onnx_feeds"].items()}
            out = sess.run(["output"], ofeeds)[0]
            ort_path = os.path.join(m["dir"], f"ort_out_t{threads}.npy")
            np.save(ort_path, out)
            r["ort_out"] = ort_path
            med, p10, p90, n = time_fn(lambda: sess.run(["output"], ofeeds), budget_s,
                                       max_runs, min_runs, warmup)
            r["ort"] = dict(median_us=med, p10_us=p10, p90_us=p90, runs=n)
            del sess
        except Exception as e:  # noqa: BLE001
            r["ort"] = dict(error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
        print(f"  [t={threads}] {name}: tf={r['tf'].get('median_us', r['tf'].get('error'))} "
              f"ort={r['ort'].get('median_us', r['ort'].get('error'))}", flush=True)
    with open(out_json, "w") as f:
        json.dump(res, f, indent=1)


# --------------------------------------------------------------------------------------------
# Weir
# --------------------------------------------------------------------------------------------

UNSUPPORTED_RE = re.compile(r"unknown op|no kernel|not registered|unsupported|not supported|"
                            r"unimplemented|not implemented|missing kernel", re.I)


def weir_args(m):
    args = [m["pb"]]
    for k, p in m["feeds"].items():
        args += ["--feed", f"{k}={p}"]
    return args + ["--fetch", m["fetch"]]


def weir_failure(proc):
    if proc.returncode < 0:
        return f"crash (signal {-proc.returncode})"
    lines = [l for l in (proc.stderr or "").strip().splitlines() if l.strip()]
    msg = next((l for l in lines if l.startswith("weir: error:")), lines[-1] if lines else "")
    msg = msg.replace("weir: error: ", "")[:240]
    kind = "unsupported" if UNSUPPORTED_RE.search(msg) else f"error (rc={proc.returncode})"
    return f"weir: {kind} ({msg})"


WEIR_ENV = None  # set in main()


def run_weir(cmd, timeout):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=WEIR_ENV), None
    except subprocess.TimeoutExpired:
        return None, f"weir: timeout after {timeout}s"


def weir_check(weir, m, threads, ref_path, timeout):
    """Runs `weir run --out` and compares with TF's output. Returns (status, max_rel_err)."""
    out_dir = os.path.join(m["dir"], f"weir_out_t{threads}")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, re.sub(r"[^A-Za-z0-9._-]", "_", m["fetch"]) + ".npy")
    if os.path.exists(path):
        os.remove(path)
    proc, err = run_weir([weir, "run"] + weir_args(m) + ["--out", out_dir, "--threads",
                                                         str(threads)], timeout)
    if err:
        return err, None
    if proc.returncode != 0:
        return weir_failure(proc), None
    if ref_path is None:
        return "no TF reference", None
    return compare(np.load(path), np.load(ref_path))


def compare(got, ref):
    if got.shape != ref.shape:
        return f"MISMATCH shape {got.shape} vs TF {ref.shape}", None
    if got.dtype != ref.dtype:
        return f"MISMATCH dtype {got.dtype} vs TF {ref.dtype}", None
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(ref)):
        return "MISMATCH non-finite values", None
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-30)
    err = float(np.max(np.abs(got.astype(np.float64) - ref))) / scale if ref.size else 0.0
    return ("ok" if err <= RTOL else f"MISMATCH rel_err={err:.2e}"), err


def weir_time(weir, m, threads, budget_s, max_runs, min_runs, warmup, timeout):
    """Pilot run to estimate the per-run cost, then `weir bench` sized to the budget."""
    base = [weir, "bench"] + weir_args(m) + ["--threads", str(threads)]
    proc, err = run_weir(base + ["--runs", "3", "--warmup", "1"], timeout)
    if err:
        return dict(error=err)
    if proc.returncode != 0:
        return dict(error=weir_failure(proc))
    pilot = parse_bench(proc.stdout)
    if pilot is None:
        return dict(error=f"weir: cannot parse bench output {proc.stdout.strip()[:120]!r}")
    runs = int(max(min_runs, min(max_runs, budget_s * 1e6 / max(pilot["median_us"], 1.0))))
    proc, err = run_weir(base + ["--runs", str(runs), "--warmup", str(warmup)], timeout)
    if err:
        return dict(error=err)
    if proc.returncode != 0:
        return dict(error=weir_failure(proc))
    return parse_bench(proc.stdout) or dict(error="weir: cannot parse bench output")


def onednn_sgemm_time(binary, threads, budget_s, timeout, n=1024):
    """oneDNN's own sgemm on the gemm workload's shape (n^3), same thread count."""
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        return dict(error=f"{binary} not built (bazel build //tools:onednn_sgemm)")
    runs = max(10, min(200, int(budget_s / (2.0 * n ** 3 / 80e9))))
    proc = subprocess.run([binary, str(n), str(n), str(n), "--threads", str(threads),
                           "--runs", str(runs), "--warmup", "3"], capture_output=True,
                          text=True, timeout=timeout, env=WEIR_ENV)
    if proc.returncode != 0:
        return dict(error=f"rc={proc.returncode}: {proc.stderr.strip()[:200]}")
    return parse_bench(proc.stdout)


def parse_bench(text):
    m = re.search(r"median_us=([\d.]+) p10_us=([\d.]+) p90_us=([\d.]+) runs=(\d+)", text)
    if not m:
        return None
    return dict(median_us=float(m.group(1)), p10_us=float(m.group(2)),
                p90_us=float(m.group(3)), runs=int(m.group(4)))


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt_us(r):
    return f"{r['median_us']:.1f}" if r and "median_us" in r else "-"


def ratio(a, b):
    if a and b and "median_us" in a and "median_us" in b and b["median_us"] > 0:
        return f"{a['median_us'] / b['median_us']:.2f}"
    return "-"


def render(rows, meta_info):
    hdr = ["workload", "threads", "weir_us", "tf_us", "ort_us", "tf/weir", "ort/weir",
           "check", "notes"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"]
    for r in rows:
        notes = []
        w = r["weir"]
        if "error" in w:
            notes.append(w["error"])
        for peer in ("tf", "ort"):
            if "error" in r[peer]:
                notes.append(f"{peer}: {r[peer]['error']}")
        if "median_us" in w:
            if r.get("nodes") and r["workload"] == "chain":
                notes.append(f"weir {w['median_us'] * 1e3 / r['nodes']:.0f} ns/node")
                for peer in ("tf", "ort"):
                    if "median_us" in r[peer]:
                        notes.append(f"{peer} {r[peer]['median_us'] * 1e3 / r['nodes']:.0f} "
                                     "ns/node")
            if r.get("flops") and r["workload"] in ("gemm", "wide", "cnn_b32", "mlp_b64"):
                g = lambda x: r["flops"] / x["median_us"] / 1e3
                s = f"GFLOP/s weir {g(w):.1f}"
                for peer in ("tf", "ort"):
                    if "median_us" in r[peer]:
                        s += f", {peer} {g(r[peer]):.1f}"
                notes.append(s)
            sg = r.get("onednn_sgemm") or {}
            if "median_us" in sg:
                notes.append(f"oneDNN sgemm {r['flops'] / sg['median_us'] / 1e3:.1f} GFLOP/s, "
                             f"weir at {100 * sg['median_us'] / w['median_us']:.0f}% of it")
            elif "error" in sg:
                notes.append(f"oneDNN sgemm: {sg['error']}")
        if r.get("ort_check") not in (None, "ok"):
            notes.append(f"ort vs tf: {r['ort_check']}")
        check = r["check"]
        lines.append("| " + " | ".join([r["workload"], str(r["threads"]), fmt_us(w),
                                         fmt_us(r["tf"]), fmt_us(r["ort"]),
                                         ratio(r["tf"], w), ratio(r["ort"], w), check,
                                         "; ".join(notes).replace("|", "/")]) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weir", default="bazel-bin/tools/weir")
    ap.add_argument("--out", default="out/bench")
    ap.add_argument("--quick", action="store_true", help="fewer runs (smoke test)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", default=",".join(DEFAULT_WORKLOADS),
                    help="comma-separated workloads; also mobilenet_v2_b1, mobilenet_v2_b32, "
                         "bert_encoder_b1, bert_encoder_b32 (real frozen models)")
    ap.add_argument("--weir-timeout", type=int, default=300)
    ap.add_argument("--weir-omp", choices=["match", "passive", "inherit"], default="match",
                    help="match: run weir with OMP_NUM_THREADS=N (its oneDNN uses OpenMP, which "
                         "--threads does not limit); passive: also OMP_WAIT_POLICY=passive; "
                         "inherit: leave the environment alone")
    ap.add_argument("--onednn-sgemm", default="bazel-bin/tools/onednn_sgemm",
                    help="oneDNN's own sgemm timer (//tools:onednn_sgemm), the reference for "
                         "the gemm workload; skipped when missing")
    ap.add_argument("--peers-worker", nargs=2, metavar=("THREADS", "OUT_JSON"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.quick:
        budget_s, max_runs, min_runs, warmup = 0.4, 200, 5, 2
    else:
        budget_s, max_runs, min_runs, warmup = 3.0, 2000, 20, 5

    out = os.path.abspath(args.out)
    models_dir = os.path.join(out, "models")
    meta_path = os.path.join(out, "meta.json")

    if args.peers_worker:
        with open(meta_path) as f:
            meta = json.load(f)
        peers_worker(meta, int(args.peers_worker[0]), budget_s, max_runs, min_runs, warmup,
                     args.peers_worker[1])
        return

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workloads {unknown}; known: {list(WORKLOADS)}")
    threads_list = [int(t) for t in args.threads.split(",")]
    weir = os.path.abspath(args.weir)
    if not os.access(weir, os.X_OK):
        raise SystemExit(f"weir binary not found at {weir}; bazel build //tools:weir")

    os.makedirs(models_dir, exist_ok=True)
    t_start = time.time()
    print(f"generating models under {models_dir} ...", flush=True)
    meta = generate(names, models_dir)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)

    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # halves OpenBLAS/numpy speed when set
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"

    rows = []
    for threads in threads_list:
        print(f"threads={threads}: timing TensorFlow and ONNX Runtime ...", flush=True)
        peers_json = os.path.join(out, f"peers_t{threads}.json")
        penv = dict(env, OMP_NUM_THREADS=str(threads), TF_NUM_INTRAOP_THREADS=str(threads),
                    TF_NUM_INTEROP_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--out", out, "--peers-worker",
               str(threads), peers_json] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, env=penv)
        if proc.returncode != 0 or not os.path.exists(peers_json):
            peers = {n: dict(tf=dict(error=f"worker rc={proc.returncode}"),
                             ort=dict(error=f"worker rc={proc.returncode}")) for n in names}
        else:
            with open(peers_json) as f:
                peers = json.load(f)
        global WEIR_ENV
        WEIR_ENV = dict(env)
        if args.weir_omp in ("match", "passive"):
            WEIR_ENV["OMP_NUM_THREADS"] = str(threads)
        if args.weir_omp == "passive":
            WEIR_ENV["OMP_WAIT_POLICY"] = "passive"
        print(f"threads={threads}: checking and timing Weir (OMP_NUM_THREADS="
              f"{WEIR_ENV.get('OMP_NUM_THREADS', 'unset')}) ...", flush=True)
        for name in names:
            m, p = meta[name], peers[name]
            check, err = weir_check(weir, m, threads, p.get("tf_ref"), args.weir_timeout)
            ort_check = None
            if p.get("tf_ref") and p.get("ort_out"):
                ort_check, _ = compare(np.load(p["ort_out"]), np.load(p["tf_ref"]))
            if check.startswith("weir:") or check.startswith("crash"):
                w = dict(error=check)
                check = "-"
            else:
                w = weir_time(weir, m, threads, budget_s, max_runs, min_runs, warmup,
                              args.weir_timeout)
            row = dict(workload=name, threads=threads, weir=w, tf=p["tf"], ort=p["ort"],
                       check=check, rel_err=err, ort_check=ort_check, flops=m["flops"],
                       nodes=m["nodes"])
            if name == "gemm":
                row["onednn_sgemm"] = onednn_sgemm_time(args.onednn_sgemm, threads, budget_s,
                                                        args.weir_timeout)
            rows.append(row)
            print(f"  [t={threads}] {name}: weir={w.get('median_us', w.get('error'))} "
                  f"check={check}", flush=True)

    table = render(rows, meta)
    import onnxruntime
    import tensorflow as tf
    header = (f"Weir vs TensorFlow {tf.__version__} (Session) vs ONNX Runtime "
              f"{onnxruntime.__version__}; {'quick' if args.quick else 'full'} run, "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
              f"{time.strftime('%Y-%m-%d %H:%M')}, {time.time() - t_start:.0f}s, "
              f"weir OpenMP env: --weir-omp {args.weir_omp}."
              "\n"
              "Times are medians in microseconds; ratios > 1 mean Weir is faster. "
              f"check: Weir's output vs TensorFlow's (max abs diff / max |TF|, <= {RTOL}).\n")
    print()
    print(header)
    print(table)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("# Weir benchmark results\n\n" + header + "\n" + table + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(dict(tensorflow=tf.__version__, onnxruntime=onnxruntime.__version__,
                       quick=args.quick, weir_omp=args.weir_omp, cpus=os.cpu_count(),
                       rows=rows), f, indent=1)
    print(f"\nwrote {os.path.join(out, 'results.md')} and results.json")


if __name__ == "__main__":
    main()
