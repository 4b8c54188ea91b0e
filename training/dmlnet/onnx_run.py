"""A tiny NumPy interpreter for the ONNX operators our exported graphs use.

onnxruntime is not available for Python here and onnx 1.12 has no reference evaluator, so export is
verified numerically with this (float64 accumulation). Supports exactly the ops our graphs contain;
anything else raises NotImplementedError naming the op."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, at):
    st = at.get("strides", [1, 1])
    dl = at.get("dilations", [1, 1])
    pd = at.get("pads", [0, 0, 0, 0])
    g = at.get("group", 1)
    x = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])))
    n, c, h, wd = x.shape
    co, ci, kh, kw = w.shape
    oh = (h - dl[0] * (kh - 1) - 1) // st[0] + 1
    ow = (wd - dl[1] * (kw - 1) - 1) // st[1] + 1
    out = np.zeros((n, co, oh, ow))
    cpg, opg = c // g, co // g
    for gi in range(g):
        xs = x[:, gi * cpg:(gi + 1) * cpg]
        ws = w[gi * opg:(gi + 1) * opg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dl[0]: i * dl[0] + st[0] * (oh - 1) + 1: st[0],
                           j * dl[1]: j * dl[1] + st[1] * (ow - 1) + 1: st[1]]
                out[:, gi * opg:(gi + 1) * opg] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _avgpool(x, at):
    k = at["kernel_shape"]
    st = at.get("strides", [1, 1])
    pd = at.get("pads", [0, 0, 0, 0])
    if at.get("ceil_mode", 0):
        raise NotImplementedError("AveragePool ceil_mode")
    inc = at.get("count_include_pad", 0)
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])))
    ones = np.pad(np.ones((h, w)), ((pd[0], pd[2]), (pd[1], pd[3])))
    H, W = xp.shape[-2:]
    oh, ow = (H - k[0]) // st[0] + 1, (W - k[1]) // st[1] + 1
    s = np.zeros((n, c, oh, ow))
    cnt = np.zeros((oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            s += xp[:, :, i:i + st[0] * (oh - 1) + 1:st[0], j:j + st[1] * (ow - 1) + 1:st[1]]
            cnt += ones[i:i + st[0] * (oh - 1) + 1:st[0], j:j + st[1] * (ow - 1) + 1:st[1]]
    return s / (k[0] * k[1] if inc else cnt)


def _resize_axis(x, axis, out_len, mode, ctm):
    in_len = x.shape[axis]
    if out_len == in_len and ctm != "align_corners":
        return x
    scale = out_len / in_len
    o = np.arange(out_len, dtype=np.float64)
    if ctm in ("half_pixel", "pytorch_half_pixel"):
        src = (o + 0.5) / scale - 0.5
        if ctm == "pytorch_half_pixel" and out_len == 1:
            src = np.zeros_like(o)
    elif ctm == "align_corners":
        src = o * (in_len - 1) / (out_len - 1) if out_len > 1 else np.zeros_like(o)
    elif ctm == "asymmetric":
        src = o / scale
    else:
        raise NotImplementedError(f"Resize coordinate_transformation_mode {ctm}")
    if mode == "nearest":
        idx = np.clip(np.floor(src + 0.5).astype(int) if False else np.floor(src).astype(int), 0, in_len - 1)
        return np.take(x, idx, axis=axis)
    src = np.clip(src, 0, in_len - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, in_len - 1)
    lam = src - i0
    shape = [1] * x.ndim
    shape[axis] = out_len
    lam = lam.reshape(shape)
    return np.take(x, i0, axis=axis) * (1 - lam) + np.take(x, i1, axis=axis) * lam


def _resize(x, roi, scales, sizes, at):
    mode = at.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    ctm = at.get("coordinate_transformation_mode", b"half_pixel")
    ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
    if sizes is not None and np.size(sizes) > 0:
        out = [int(s) for s in sizes]
    else:
        out = [int(np.floor(d * s)) for d, s in zip(x.shape, scales)]
    for ax in range(x.ndim):
        if out[ax] != x.shape[ax]:
            if mode != "linear" and mode != "nearest":
                raise NotImplementedError(f"Resize mode {mode}")
            x = _resize_axis(x, ax, out[ax], mode, ctm)
    return x


def run(model_path_or_proto, feeds):
    m = onnx.load(model_path_or_proto) if isinstance(model_path_or_proto, (str, bytes)) else model_path_or_proto
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) if numpy_helper.to_array(t).dtype.kind == "f"
           else numpy_helper.to_array(t) for t in m.graph.initializer}
    for k, v in feeds.items():
        env[k] = np.asarray(v, dtype=np.float64)
    for node in m.graph.node:
        at = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            r = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, at)
        elif op == "Relu":
            r = np.maximum(ins[0], 0)
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op]
            r = f(ins[0], ins[1])
            if np.asarray(ins[0]).dtype.kind in "iu" and np.asarray(ins[1]).dtype.kind in "iu":
                r = (np.asarray(ins[0]) // np.asarray(ins[1])) if op == "Div" else r.astype(np.int64)
        elif op == "Sqrt":
            r = np.sqrt(ins[0])
        elif op in ("ReduceSum", "ReduceMean"):  # axes: an input from opset 13 (ReduceSum), else an attribute
            axes = tuple(int(a) for a in (ins[1] if len(ins) > 1 and ins[1] is not None else at.get("axes")))
            r = (np.sum if op == "ReduceSum" else np.mean)(ins[0], axis=axes, keepdims=bool(at.get("keepdims", 1)))
        elif op == "Concat":
            r = np.concatenate(ins, axis=at["axis"])
        elif op == "GlobalAveragePool":
            r = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "AveragePool":
            r = _avgpool(ins[0], at)
        elif op == "BatchNormalization":
            x, sc, b, mu, var = ins[:5]
            sh = (1, -1, 1, 1)
            r = ((x - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + at.get("epsilon", 1e-5)) * sc.reshape(sh)
                 + b.reshape(sh))
        elif op == "Resize":
            r = _resize(ins[0], ins[1] if len(ins) > 1 else None, ins[2] if len(ins) > 2 else None,
                        ins[3] if len(ins) > 3 else None, at)
        elif op == "Shape":
            r = np.array(ins[0].shape, dtype=np.int64)
        elif op == "Gather":
            r = np.take(ins[0], ins[1].astype(np.int64), axis=at.get("axis", 0))
        elif op == "Slice":
            data, starts, ends = ins[0], ins[1], ins[2]
            axes = ins[3] if len(ins) > 3 and ins[3] is not None else np.arange(len(starts))
            steps = ins[4] if len(ins) > 4 and ins[4] is not None else np.ones(len(starts), dtype=np.int64)
            sl = [slice(None)] * data.ndim
            for s, e, ax, stp in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s), int(min(e, 2 ** 62)) if e > 0 else int(e), int(stp))
            r = data[tuple(sl)]
        elif op == "Unsqueeze":
            axes = ins[1] if len(ins) > 1 and ins[1] is not None else at["axes"]
            r = ins[0]
            for ax in sorted(int(a) for a in np.atleast_1d(axes)):
                r = np.expand_dims(r, ax)
        elif op == "Squeeze":
            axes = ins[1] if len(ins) > 1 and ins[1] is not None else at.get("axes")
            r = np.squeeze(ins[0], axis=tuple(int(a) for a in np.atleast_1d(axes)) if axes is not None else None)
        elif op == "Cast":
            to = at["to"]
            dt = {1: np.float64, 7: np.int64, 6: np.int32, 9: np.bool_, 11: np.float64}.get(to)
            if dt is None:
                raise NotImplementedError(f"Cast to {to}")
            r = np.asarray(ins[0]).astype(dt)
        elif op == "Constant":
            r = numpy_helper.to_array(at["value"]) if "value" in at else None
            r = r.astype(np.float64) if r.dtype.kind == "f" else r
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(at["value"]) if "value" in at else np.zeros(1)
            r = np.full(tuple(int(s) for s in ins[0]), v.reshape(-1)[0])
        elif op == "Expand":
            shp = [int(s) for s in ins[1]]
            r = ins[0] * np.ones(shp, dtype=ins[0].dtype)
        elif op == "Reshape":
            r = ins[0].reshape([int(s) if s != 0 else ins[0].shape[i] for i, s in enumerate(ins[1])])
        elif op == "Identity":
            r = ins[0]
        elif op == "Equal":
            r = np.equal(ins[0], ins[1])
        elif op == "Where":
            r = np.where(ins[0], ins[1], ins[2])
        elif op == "Max":
            r = ins[0]
            for o in ins[1:]:
                r = np.maximum(r, o)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            r = np.clip(ins[0], lo, hi)
        else:
            raise NotImplementedError(f"ONNX op {op} not supported by dmlnet.onnx_run")
        env[node.output[0]] = r
    return [env[o.name] for o in m.graph.output]
