"""Run a TensorFlow.js graph model (model.json + weight shards) as a PyTorch module.

Why: the only pretrained vision weights this project's machines can fetch come from the npm registry, as
TensorFlow.js graph models. This runs such a graph (the ops a MobileNet-style convolutional network uses)
in PyTorch, NCHW, with the weights as parameters, so a probe can put a pretrained encoder under a DML head.
"""
import base64
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_weights(model_json):
    """The graph description and every weight of a TF.js model, dequantised to float32 (int32 kept)."""
    with open(model_json) as fh:
        model = json.load(fh)
    base, weights = os.path.dirname(model_json), {}
    for group in model["weightsManifest"]:
        buffer = b"".join(open(os.path.join(base, path), "rb").read() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, offset = _read_weight(buffer, offset, spec)
            weights[spec["name"]] = array.reshape(spec["shape"])
    return model, weights


def _read_weight(buffer, offset, spec):
    count = int(np.prod(spec["shape"])) if spec["shape"] else 1
    quantization = spec.get("quantization") or {}
    stored = quantization.get("dtype", spec["dtype"])
    dtype = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16, "float32": np.float32,
             "int32": np.int32}[stored]
    array = np.frombuffer(buffer, dtype, count, offset).astype(np.float32 if stored != "int32" else np.int32)
    if stored in ("uint8", "uint16"):
        array = array * quantization["scale"] + quantization["min"]
    return array.copy(), offset + np.dtype(dtype).itemsize * count


def _strings(node, key):
    return [base64.b64decode(s).decode() for s in node.get("attr", {}).get(key, {}).get("list", {}).get("s", [])]


def _ints(node, key, default):
    values = [int(i) for i in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]
    return values[1:3] if values else default


def pad_same(x, kernel, stride, dilation):
    """TensorFlow's SAME padding: the odd pixel goes to the bottom and right, unlike PyTorch's symmetric pad."""
    pads = []
    for size, k, s, d in zip(x.shape[-2:], kernel, stride, dilation):
        extent = (k - 1) * d + 1
        total = max((-(-size // s) - 1) * s + extent - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return F.pad(x, (left, right, top, bottom))


def resize_bilinear_legacy(x, size):
    """TF ResizeBilinear with align_corners and half_pixel_centers both false: source = out * in / out_size."""
    def axis(n_in, n_out):
        source = torch.arange(n_out, dtype=torch.float32) * (n_in / n_out)
        low = source.floor().long().clamp(max=n_in - 1)
        return low, (low + 1).clamp(max=n_in - 1), source - low
    (y0, y1, wy), (x0, x1, wx) = axis(x.shape[2], size[0]), axis(x.shape[3], size[1])
    rows = x[:, :, y0] * (1 - wy)[:, None] + x[:, :, y1] * wy[:, None]
    return rows[..., x0] * (1 - wx) + rows[..., x1] * wx


def _per_channel(t):
    """A 1-D NHWC constant broadcasts over the channel axis, which is axis 1 in NCHW."""
    return t.view(1, -1, 1, 1) if t.dim() == 1 and t.numel() > 1 else t


class TfjsGraph(nn.Module):
    """The subgraph that computes `outputs`. Input: N x 3 x H x W as the model expects it (values, size)."""

    def __init__(self, model_json, outputs):
        super().__init__()
        model, weights = load_weights(model_json)
        self.nodes = {node["name"]: node for node in model["modelTopology"]["node"]}
        self.outputs = outputs
        self.order = self._topological(outputs)
        self.params, self.consts = nn.ParameterDict(), {}
        for name in self.order:
            if self.nodes[name]["op"] != "Const":
                continue
            array = weights[name]
            if array.dtype == np.float32 and array.ndim == 4:  # filters: HWIO / HW C mult -> O I H W
                self.params[self._key(name)] = nn.Parameter(torch.from_numpy(array.transpose(3, 2, 0, 1).copy()))
            elif array.dtype == np.float32 and array.ndim == 1 and array.size > 1:
                self.params[self._key(name)] = nn.Parameter(torch.from_numpy(array))
            else:
                self.consts[name] = torch.from_numpy(array)

    @staticmethod
    def _key(name):
        return name.replace("/", "__").replace(".", "_")

    def _topological(self, outputs):
        seen, order = set(), []

        def visit(name):
            name = name.split(":")[0].lstrip("^")
            if name in seen:
                return
            seen.add(name)
            for source in self.nodes[name].get("input", []):
                visit(source)
            order.append(name)
        for output in outputs:
            visit(output)
        return order

    def forward(self, images):
        values = {}
        for name in self.order:
            node = self.nodes[name]
            if node["op"] == "Const":
                key = self._key(name)
                values[name] = self.params[key] if key in self.params else self.consts[name]
            elif node["op"] == "Placeholder":
                values[name] = images
            else:
                inputs = [values[i.split(":")[0]] for i in node.get("input", []) if not i.startswith("^")]
                values[name] = self._run(node, inputs)
        return [values[o] for o in self.outputs]

    def _run(self, node, a):
        op = node["op"]
        if op in ("_FusedConv2D", "Conv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
            return self._conv(node, a)
        if op == "Mul":
            return _per_channel(a[0]) * _per_channel(a[1])
        if op in ("Add", "AddV2"):
            return _per_channel(a[0]) + _per_channel(a[1])
        if op == "Sub":
            return _per_channel(a[0]) - _per_channel(a[1])
        if op in ("Relu", "Relu6", "Sigmoid", "Identity"):
            return {"Relu": F.relu, "Relu6": F.relu6, "Sigmoid": torch.sigmoid, "Identity": lambda t: t}[op](a[0])
        if op == "Mean":
            axes = [{1: 2, 2: 3, 3: 1, -1: 1}[int(i)] for i in np.atleast_1d(a[1].numpy())]
            return a[0].mean(dim=axes, keepdim=node["attr"].get("keep_dims", {}).get("b", False))
        if op == "ResizeBilinear":  # the graph's sizes are fixed for its export size; the ratio is 2 throughout
            return resize_bilinear_legacy(a[0], (a[0].shape[2] * 2, a[0].shape[3] * 2))
        if op == "ConcatV2":
            return torch.cat(a[:-1], dim=1)
        raise ValueError(f"TF.js op {op} (node {node['name']}) is not supported")

    def _conv(self, node, a):
        x, weight = a[0], a[1]
        depthwise = "Depthwise" in node["op"]
        if depthwise:  # stored as mult x C x kh x kw; output channel c * mult + m, as TF orders it
            mult, channels = weight.shape[0], weight.shape[1]
            weight = weight.transpose(0, 1).reshape(channels * mult, 1, *weight.shape[2:])
        stride, dilation = _ints(node, "strides", [1, 1]), _ints(node, "dilations", [1, 1])
        padding = base64.b64decode(node["attr"]["padding"]["s"]).decode()
        if padding == "SAME":
            x = pad_same(x, weight.shape[2:], stride, dilation)
        y = F.conv2d(x, weight, None, stride, 0, dilation, groups=x.shape[1] if depthwise else 1)
        for fused in _strings(node, "fused_ops"):
            if fused == "BiasAdd":
                y = y + _per_channel(a[2])
            elif fused in ("Relu", "Relu6"):
                y = F.relu(y) if fused == "Relu" else F.relu6(y)
            else:
                raise ValueError(f"fused op {fused} (node {node['name']}) is not supported")
        return y
