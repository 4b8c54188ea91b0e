"""Rebuild a shipped model in PyTorch from its card and ONNX file (no training checkpoint needed).

The card's training.config rebuilds the network with training/dmlnet; the ONNX graph holds the weights
with every BatchNorm folded into the convolution before it. Convolutions are matched in execution order
(a forward hook per nn.Conv2d), each gets the folded weight and bias, and the BatchNorm that follows it
becomes the identity. The result is checked against NAME.reference.json.
"""
from __future__ import annotations

import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from .checkpoint import build
from .model import exported_network


def _execution_order(net, modules_of, height, width):
    seen = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: seen.append(mod))
             for m in net.modules() if isinstance(m, modules_of)]
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    for h in hooks:
        h.remove()
    return seen


def _make_identity(bn):
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    bn.weight.data.fill_(1.0)


def load(models_dir, name):
    """-> (net, head, cfg, card) in eval mode, weights from NAME.onnx, checked against the reference tensors."""
    with open(os.path.join(models_dir, name + ".json")) as f:
        card = json.load(f)
    cfg = card["training"]["config"]
    net, head = build(cfg, len(card["classes"]), "cpu", pretrained=False)
    net.eval()
    graph = onnx.load(os.path.join(models_dir, card["onnx"])).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    onnx_convs = [node for node in graph.node if node.op_type == "Conv"]
    calls = _execution_order(net, (nn.Conv2d, nn.BatchNorm2d), 64, 96)
    convs = [m for m in calls if isinstance(m, nn.Conv2d)]
    if len(convs) != len(onnx_convs):
        raise SystemExit(f"{name}: {len(onnx_convs)} ONNX convolutions but the rebuilt net runs {len(convs)}")
    with torch.no_grad():
        for position, (conv, node) in enumerate(zip(convs, onnx_convs)):
            w = weights[node.input[1]]
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise SystemExit(f"{name}: convolution {position} has shape {tuple(w.shape)} in ONNX, "
                                 f"{tuple(conv.weight.shape)} in PyTorch")
            conv.weight.copy_(w)
            bias = weights[node.input[2]] if len(node.input) > 2 else torch.zeros(w.shape[0])
            following = calls[calls.index(conv) + 1] if calls.index(conv) + 1 < len(calls) else None
            if conv.bias is not None:
                conv.bias.copy_(bias)
            elif isinstance(following, nn.BatchNorm2d):
                _make_identity(following)
                following.bias.copy_(bias)
            else:
                raise SystemExit(f"{name}: convolution {position} has no bias and no BatchNorm to carry the folded "
                                 "bias")
    if card["head"]["type"] == "learned-centres":
        head.centres.data.copy_(torch.tensor(card["head"]["prototypes"]))
    check_reference(net, models_dir, name)
    return net, head, cfg, card


def check_reference(net, models_dir, name, tol=1e-4):
    with open(os.path.join(models_dir, name + ".reference.json")) as f:
        ref = json.load(f)
    x = torch.tensor(ref["input"]["data"], dtype=torch.float32).view(ref["input"]["shape"])
    with torch.no_grad():
        y = exported_network(net)[0](x).numpy().ravel()
    worst = float(np.abs(y - np.asarray(ref["output"]["data"], dtype=np.float32)).max())
    if worst > tol:
        raise SystemExit(f"{name}: PyTorch rebuilt from ONNX differs from {name}.reference.json by {worst:.2e}")
    return worst
