"""Run a TFLite graph in float PyTorch: every convolution a trainable `Conv` with the dequantised weights.

Used for the Cityscapes DeepLab on MobileNet-EdgeTPU (`../shared/pretrained/cityscapes/`), whose backbone
is not a textbook architecture: its structure is the file's. Activations are executed in float (the file's
activation quantisation is ignored: QUANTIZE / DEQUANTIZE are identities), tensors are NCHW.

`TFLiteGraph(model, outputs)` keeps only the operators that the requested output tensors need, so the same
class gives the whole segmentation model (for the reference test) or an encoder that returns a few
intermediate tensors (for a decoder of our own).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mobilenetv2 import Conv, activate, tf_same_padding, torch_weight
from .tflite import TFLiteError, TFLiteModel, read_tflite

IDENTITY_OPS = ("QUANTIZE", "DEQUANTIZE", "TILE")  # TILE: the concatenation that consumes it broadcasts


def _conv_module(model, op, padding):
    w = model.tensors[op.inputs[1]]
    o = op.options
    if o["dilation"][0] != o["dilation"][1] or o["stride"][0] != o["stride"][1]:
        raise TFLiteError(f"{model.path}: {op.op} with dilation {o['dilation']} / stride {o['stride']}: "
                          "only square strides and dilations are supported")
    if op.op == "CONV_2D":
        cout, k, _, cin = w.shape
        groups = 1
    else:
        _, k, _, cout = w.shape
        cin = groups = cout // o["multiplier"]
    conv = Conv(cin, cout, k, o["stride"][0], groups=groups, relu6=False, padding=padding,
                dilation=o["dilation"][0], act=o["activation"])
    with torch.no_grad():
        conv.conv.weight.copy_(torch_weight(model, op))
        conv.conv.bias.copy_(torch.from_numpy(model.tensors[op.inputs[2]].value()))
    return conv


def _needed(model: TFLiteModel, outputs):
    """Indices of the operators the output tensors depend on, in graph order."""
    producer = {t: i for i, op in enumerate(model.operators) for t in op.outputs}
    keep, stack = set(), list(outputs)
    while stack:
        t = stack.pop()
        i = producer.get(t)
        if i is None or i in keep:
            continue
        keep.add(i)
        stack.extend(v for v in model.operators[i].inputs if v >= 0 and model.tensors[v].data is None)
    return sorted(keep)


class TFLiteGraph(nn.Module):
    def __init__(self, model: TFLiteModel, outputs=None, padding="tf"):
        super().__init__()
        self.path = model.path
        self.input = model.inputs[0]
        self.outputs = list(outputs if outputs is not None else model.outputs)
        self.ops = [(i, model.operators[i]) for i in _needed(model, self.outputs)]
        self.convs = nn.ModuleDict({f"op{i}": _conv_module(model, op, padding) for i, op in self.ops
                                    if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D")})
        self.padding = padding
        self.shapes = {t.index: t.shape for t in model.tensors}
        self.constants = {t.index: t for t in model.tensors if t.data is not None}
        unsupported = {op.op for _, op in self.ops} - {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D",
                                                       "CONCATENATION", "RESIZE_BILINEAR", *IDENTITY_OPS}
        if unsupported:
            raise TFLiteError(f"{model.path}: operators {sorted(unsupported)} are not executed by TFLiteGraph")

    def forward(self, x):
        values = {self.input: x}
        for i, op in self.ops:
            values[op.outputs[0]] = self._run(i, op, [values.get(t) for t in op.inputs])
        out = [values[t] for t in self.outputs]
        return out[0] if len(out) == 1 else out

    def _run(self, i, op, args):
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            return self.convs[f"op{i}"](args[0])
        if op.op == "ADD":
            return activate(args[0] + args[1], op.options["activation"])
        if op.op in IDENTITY_OPS:
            return args[0]
        if op.op == "AVERAGE_POOL_2D":
            return self._average_pool(op, args[0])
        if op.op == "CONCATENATION":
            return self._concatenate(op, args)
        return self._resize(op, args[0])

    def _average_pool(self, op, x):
        kh, kw = op.options["kernel"]
        in_shape = self.shapes[op.inputs[0]]
        if (kh, kw) == (in_shape[1], in_shape[2]):  # image pooling: the whole map, whatever its size
            return activate(x.mean((2, 3), keepdim=True), op.options["activation"])
        sh, sw = op.options["stride"]
        if op.options["padding"] == 0:  # SAME
            x = F.pad(x, (*tf_same_padding(x.shape[-1], kw, sw, 1), *tf_same_padding(x.shape[-2], kh, sh, 1)))
        return activate(F.avg_pool2d(x, (kh, kw), (sh, sw)), op.options["activation"])

    def _concatenate(self, op, args):
        if op.options["axis"] not in (3, -1):
            raise TFLiteError(f"{self.path}: concatenation along axis {op.options['axis']} is not supported")
        ref = next(a for a in args if a.shape[-2:] != (1, 1))  # sizes taken from a tensor stay dynamic in ONNX
        args = [a.expand(-1, -1, ref.shape[-2], ref.shape[-1]) if a.shape[-2:] == (1, 1) else a for a in args]
        return activate(torch.cat(args, 1), op.options["activation"])

    def _resize(self, op, x):
        h, w = (int(v) for v in self.constants[op.inputs[1]].data)
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=op.options["align_corners"])


def deeplab_classifier(model: TFLiteModel):
    """The final 1x1 convolution of a DeepLab TFLite segmentation model: its input is the head features, its
    output the class logits."""
    return [op for op in model.operators if op.op == "CONV_2D"][-1]


def deeplab_encoder_outputs(model: TFLiteModel):
    """(1/4 tensor, 1/8 tensor, 1/16 head features) of a DeepLab TFLite segmentation model: the last
    residual-block outputs (ADD) at a quarter and an eighth of the input size (not the wide expansion that
    follows them), and the input of the final classifier (the image-pooling + concat-projection features,
    which already carry the Cityscapes semantics)."""
    size = model.tensors[model.inputs[0]].shape[1]
    classifier = deeplab_classifier(model)
    taps = []
    for fraction in (4, 8):
        want = -(-size // fraction)  # SAME padding: ceil
        at_size = [op.outputs[0] for op in model.operators
                   if op.op == "ADD" and model.tensors[op.outputs[0]].shape[1:2] == (want,)]
        if not at_size:
            raise TFLiteError(f"{model.path}: no residual block at 1/{fraction} of the input ({want} px)")
        taps.append(at_size[-1])
    return taps[0], taps[1], classifier.inputs[0]


DEEPLAB_CITYSCAPES = "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite"
# The DeepLab TFLite models take uint8 pixels quantised as (q - 128) / 128.
DEEPLAB_MEAN = DEEPLAB_STD = (128 / 255,) * 3


class DeepLabCityscapes(nn.Module):
    """The Cityscapes DeepLab (MobileNet-EdgeTPU) in float: normalised RGB [B,3,H,W] -> 19 logits at the
    input size (its 1/16 logits upsampled as the file does, align_corners). Sizes of the form 16k + 1
    (the 513 it was made for, or 481x361 for CamVid frames) make TensorFlow's SAME padding symmetric."""

    def __init__(self, path, padding="tf"):
        super().__init__()
        model = read_tflite(path)
        classifier = deeplab_classifier(model)
        self.graph = TFLiteGraph(model, outputs=[classifier.outputs[0]], padding=padding)

    def forward(self, x):
        return F.interpolate(self.graph(x), size=x.shape[-2:], mode="bilinear", align_corners=True)
