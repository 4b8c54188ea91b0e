"""MobileNetV2 (Sandler et al., CVPR 2018) as a segmentation encoder, with weights read from TFLite files.

The ImageNet weights these machines can reach are TFLite flatbuffers with batch norm folded into the
convolutions (`../shared/pretrained/README.md`), so every convolution here carries a bias and there is no
batch norm in the encoder. `load_mobilenet_v2_tflite` assigns the file's CONV_2D / DEPTHWISE_CONV_2D
operators, in graph order, to this module's convolutions and checks every shape.

Padding: TensorFlow's SAME pads one pixel more at the bottom/right of a stride-2 layer on even sizes.
`padding="tf"` reproduces that exactly (for the reference-output tests); `padding="symmetric"` is PyTorch's
padding, which exports to ONNX with dynamic sizes and is what the segmentation models train with (the
one-pixel shift is learnt away in fine-tuning).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .tflite import TFLiteError, read_tflite

# (expansion t, channels c, repeats n, first stride s) of the inverted-residual stages (paper, Table 2).
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
          (6, 320, 1, 1))
# The TFLite models take uint8 pixels quantised as (q - 127.5) / 127.5: pixel/255 normalised by 0.5, 0.5.
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


def tf_same_padding(size: int, k: int, stride: int, dilation: int) -> tuple:
    """(before, after) padding of TensorFlow's SAME: output ceil(size / stride), the extra pixel after."""
    eff = (k - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def activate(x, name):
    """A TFLite fused activation (None, "RELU", "RELU6")."""
    if name == "RELU6":
        return F.relu6(x)
    return F.relu(x) if name == "RELU" else x


class Conv(nn.Module):
    """Convolution with bias (batch norm folded), a fused activation, TF-SAME or symmetric padding."""

    def __init__(self, cin, cout, k=1, stride=1, groups=1, relu6=True, padding="symmetric", dilation=1, act=None):
        super().__init__()
        self.k, self.stride, self.dilation, self.tf_pad = k, stride, dilation, padding == "tf"
        pad = 0 if self.tf_pad else dilation * (k // 2)
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=True)
        self.act = act if act is not None else ("RELU6" if relu6 else None)

    def forward(self, x):
        if self.tf_pad and self.k > 1:
            top, bottom = tf_same_padding(x.shape[-2], self.k, self.stride, self.dilation)
            left, right = tf_same_padding(x.shape[-1], self.k, self.stride, self.dilation)
            x = F.pad(x, (left, right, top, bottom))
        return activate(self.conv(x), self.act)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, t, stride, padding, dilation=1):
        super().__init__()
        mid = cin * t
        layers = [] if t == 1 else [Conv(cin, mid, 1, padding=padding)]
        layers += [Conv(mid, mid, 3, stride, groups=mid, padding=padding, dilation=dilation),
                   Conv(mid, cout, 1, relu6=False, padding=padding)]
        self.layers = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.layers(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0. `features(x)` gives the 1/4, 1/8 and deepest (1/16 or 1/32) maps for a decoder;
    `forward(x)` gives ImageNet logits (1001, 0 = background) when built with `classifier=True`.

    With `output_stride=16` the last stride-2 stage runs at stride 1 with dilation 2 (as DeepLab does), so
    the deepest features keep 1/16 resolution; the weights are unchanged."""

    def __init__(self, padding="symmetric", output_stride=32, classifier=False):
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride {output_stride}: 16 or 32")
        self.stem = Conv(3, 32, 3, 2, padding=padding)
        blocks, cin, stride_so_far, rate = [], 32, 2, 1
        self.taps = []  # indices of the last block at 1/4 and at 1/8: decoder features
        for t, c, n, s in STAGES:
            for i in range(n):
                stride, layer_rate = (s if i == 0 else 1), rate
                if stride == 2 and stride_so_far >= output_stride:
                    stride, rate = 1, rate * 2  # DeepLab: this layer keeps the old rate, later ones double it
                elif stride == 2:
                    stride_so_far *= 2
                    if stride_so_far in (8, 16):
                        self.taps.append(len(blocks) - 1)
                blocks.append(InvertedResidual(cin, c, t, stride, padding, layer_rate))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.channels = (STAGES[1][1], STAGES[2][1], STAGES[-1][1])  # 24, 32, 320
        self.head = None
        if classifier:
            self.head = Conv(320, 1280, 1, padding=padding)
            self.fc = nn.Conv2d(1280, 1001, 1)

    def features(self, x):
        x = self.stem(x)
        taps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                taps.append(x)
        return taps[0], taps[1], x

    def forward(self, x):
        if self.head is None:
            raise RuntimeError("built without the ImageNet classifier (classifier=True)")
        x = self.head(self.features(x)[2])
        return self.fc(x.mean((2, 3), keepdim=True)).flatten(1)


def torch_weight(model, op) -> torch.Tensor:
    """TFLite OHWI (conv) or 1HW(C*M) (depthwise) as PyTorch OIHW, dequantised."""
    w = model.tensors[op.inputs[1]].value()
    w = w.transpose(0, 3, 1, 2) if op.op == "CONV_2D" else w.transpose(3, 0, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(w))


def _bias(model, op, cout) -> torch.Tensor:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return torch.zeros(cout)
    return torch.from_numpy(model.tensors[op.inputs[2]].value().astype(np.float32))


def load_mobilenet_v2_tflite(path, padding="symmetric", output_stride=32, classifier=False,
                             layout=torch_weight) -> MobileNetV2:
    """MobileNetV2 with every convolution taken from a TFLite MobileNetV2 1.0 file, in graph order.

    `layout` converts one operator's weight to OIHW (a parameter so that tests can show that a wrong
    layout breaks the reference outputs). Raises TFLiteError naming the file and the first mismatch."""
    model = read_tflite(path)
    ops = [op for op in model.operators if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    net = MobileNetV2(padding=padding, output_stride=output_stride, classifier=True)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    if len(ops) != len(convs):
        raise TFLiteError(f"{path}: {len(ops)} convolutions, a MobileNetV2 1.0 has {len(convs)}")
    with torch.no_grad():
        for i, (op, conv) in enumerate(zip(ops, convs)):
            w = layout(model, op)
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise TFLiteError(f"{path}: convolution {i} has weights {tuple(w.shape)}, "
                                  f"MobileNetV2 expects {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            conv.bias.copy_(_bias(model, op, w.shape[0]))
    if not classifier:
        net.head = None
        del net.fc
    return net
