#!/usr/bin/env python3
"""NCHW variant of the benchmark's cnn workload, for measuring the layout pass.

Usage (in out/bench-venv): to_nchw.py out/bench/models/cnn_b32/model.pb OUT.pb \
    out/bench/models/cnn_b32/x.npy OUT_x.npy
then `weir bench OUT.pb --feed x=OUT_x.npy --fetch output --opt-level 2` (compare with a graph
written by `weir opt --passes prune,simplify,constant-folding,cse,simplify,fusion,dce` run at
--opt-level 0, i.e. the level-2 pipeline without layout). The output equals the NHWC model's."""
import sys
import numpy as np
import tensorflow as tf
src, dst, xin, xout = sys.argv[1:5]
gd = tf.compat.v1.GraphDef()
gd.ParseFromString(open(src, "rb").read())
perm = lambda v: [v[0], v[3], v[1], v[2]]
for n in gd.node:
    if n.op == "Placeholder":
        d = n.attr["shape"].shape.dim
        sizes = perm([x.size for x in d])
        for x, s in zip(d, sizes): x.size = s
    if n.op in ("Conv2D", "BiasAdd", "MaxPool") and n.attr["data_format"].s in (b"NHWC", b""):
        if n.op == "BiasAdd" and n.name == "output":
            continue
        n.attr["data_format"].s = b"NCHW"
        for k in ("strides", "ksize", "dilations"):
            if k in n.attr and len(n.attr[k].list.i) == 4:
                v = list(n.attr[k].list.i)
                del n.attr[k].list.i[:]
                n.attr[k].list.i.extend(perm(v))
flat = [n for n in gd.node if n.name == "flatten"][0]
pool_in = flat.input[0]
p = gd.node.add(); p.name = "to_nhwc_perm"; p.op = "Const"
p.attr["dtype"].type = tf.int32.as_datatype_enum
p.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.array([0, 2, 3, 1], np.int32)))
t = gd.node.add(); t.name = "to_nhwc"; t.op = "Transpose"; t.input.extend([pool_in, "to_nhwc_perm"])
t.attr["T"].type = tf.float32.as_datatype_enum; t.attr["Tperm"].type = tf.int32.as_datatype_enum
flat.input[0] = "to_nhwc"
open(dst, "wb").write(gd.SerializeToString())
x = np.load(xin)
np.save(xout, np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
