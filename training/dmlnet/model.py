"""Encoder-decoder segmentation network with a pyramid pooling head and an embedding head.

Backbones:
  * ``small``    - a compact residual net built from scratch (CPU friendly; our shipped models).
  * ``resnet18`` / ``resnet50`` - torchvision ResNets made dilated (output stride 8), optionally
    initialised from a local weights file (``--pretrained PATH``); weights are never downloaded.

Everything here exports to ONNX with dynamic height and width: the pyramid pooling module uses
global average pooling plus stride-1 box pooling at several window sizes (no adaptive pooling, whose
ONNX export bakes in the example size), and every upsampling takes its target size from a tensor.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mobilenetv2 import MobileNetV2, load_mobilenet_v2_tflite


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, dilation=1):
        pad = dilation * (k // 2)
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + idt, inplace=True)


class SmallBackbone(nn.Module):
    """Residual encoder: 1/4 (c1), 1/8 (c2), 1/16 (c3) features."""

    def __init__(self, widths=(24, 32, 64, 128)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.stem = nn.Sequential(ConvBNReLU(3, w0, stride=2), ConvBNReLU(w0, w1, stride=2))
        self.layer1 = BasicBlock(w1, w1)
        self.layer2 = nn.Sequential(BasicBlock(w1, w2, stride=2), BasicBlock(w2, w2))
        self.layer3 = nn.Sequential(BasicBlock(w2, w3, stride=2), BasicBlock(w3, w3),
                                    BasicBlock(w3, w3, dilation=2))
        self.channels = (w1, w2, w3)

    def forward(self, x):
        c1 = self.layer1(self.stem(x))
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        return c1, c2, c3


def _dilate_resnet_layer(layer, dilation):
    """Turn a torchvision ResNet stage into a stride-1 stage with the given dilation."""
    for block in layer:
        for m in block.modules():
            if isinstance(m, nn.Conv2d):
                if m.stride == (2, 2):
                    m.stride = (1, 1)
                if m.kernel_size == (3, 3):
                    m.dilation = (dilation, dilation)
                    m.padding = (dilation, dilation)


class ResNetBackbone(nn.Module):
    """torchvision ResNet-18/50, layers 3 and 4 dilated (output stride 8)."""

    def __init__(self, name="resnet50", pretrained=None):
        super().__init__()
        import torchvision
        ctor = {"resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50}[name]
        net = ctor()  # random init; never downloads
        if pretrained:
            state = torch.load(pretrained, map_location="cpu")
            if isinstance(state, dict) and "state_dict" in state:
                state = state["state_dict"]
            state = {k.replace("module.", ""): v for k, v in state.items()}
            try:
                missing, unexpected = net.load_state_dict(state, strict=False)
            except RuntimeError as e:  # tensors of other shapes: another network's weights
                reason = str(e).splitlines()[1].strip()
                raise ValueError(f"{pretrained}: not a {name} weights file ({reason})") from None
            missing = [k for k in missing if not k.startswith("fc.")]
            if missing:
                raise ValueError(f"{pretrained}: not a {name} weights file (missing {missing[:3]}...)")
        _dilate_resnet_layer(net.layer3, 2)
        _dilate_resnet_layer(net.layer4, 4)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        exp = 4 if name == "resnet50" else 1
        self.channels = (64 * exp, 128 * exp, 512 * exp)

    def forward(self, x):
        c1 = self.layer1(self.stem(x))
        c2 = self.layer2(c1)
        c3 = self.layer4(self.layer3(c2))
        return c1, c2, c3


class MobileNetV2Backbone(nn.Module):
    """MobileNetV2 1.0 (1/4, 1/8 and 1/``output_stride`` features: 24, 32, 320 channels), optionally
    initialised from an ImageNet TFLite file (``--pretrained PATH.tflite``); no batch norm (it is folded
    into the TFLite weights), symmetric padding (ONNX-friendly)."""

    def __init__(self, pretrained=None, output_stride=32):
        super().__init__()
        if pretrained:
            self.net = load_mobilenet_v2_tflite(pretrained, output_stride=output_stride)
        else:
            self.net = MobileNetV2(output_stride=output_stride)
        self.channels = self.net.channels

    def forward(self, x):
        return self.net.features(x)


class DeepLabEdgeTPUBackbone(nn.Module):
    """The Cityscapes DeepLab on MobileNet-EdgeTPU (TFLite) up to its last features before the classifier:
    1/4 and 1/8 residual-block outputs and the 1/16 image-pooling + projection features (24, 40, 128
    channels). Its structure is the file's, so the file is needed even to rebuild a trained checkpoint
    (whose weights then replace the file's). Symmetric padding (ONNX-friendly)."""

    def __init__(self, path):
        super().__init__()
        from .tflite import read_tflite
        from .tflite_graph import TFLiteGraph, deeplab_encoder_outputs
        model = read_tflite(path)
        outputs = deeplab_encoder_outputs(model)
        self.graph = TFLiteGraph(model, outputs=list(outputs), padding="symmetric")
        self.channels = tuple(model.tensors[t].shape[-1] for t in outputs)

    def forward(self, x):
        return self.graph(x)


class PyramidPooling(nn.Module):
    """PSPNet-style context module: global pooling plus box pooling at several window sizes."""

    def __init__(self, cin, branch=32, windows=(3, 7, 13), cout=128):
        super().__init__()
        self.windows = tuple(windows)
        self.gp = ConvBNReLU(cin, branch, k=1)
        self.branches = nn.ModuleList(ConvBNReLU(cin, branch, k=1) for _ in self.windows)
        self.fuse = ConvBNReLU(cin + branch * (len(self.windows) + 1), cout, k=1)

    def forward(self, x):
        h, w = x.shape[-2:]
        g = self.gp(F.adaptive_avg_pool2d(x, 1))
        feats = [x, g.expand(-1, -1, h, w)]
        for k, conv in zip(self.windows, self.branches):
            feats.append(conv(F.avg_pool2d(x, k, 1, k // 2, count_include_pad=False)))
        return self.fuse(torch.cat(feats, 1))


def _up(x, ref):
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


class Decoder(nn.Module):
    """PPM on the deepest features, then a light FPN back to 1/4 resolution."""

    def __init__(self, channels, ppm_out=128, mid=96, out=64, windows=(3, 7, 13)):
        super().__init__()
        c1, c2, c3 = channels
        self.ppm = PyramidPooling(c3, branch=max(16, c3 // 4), windows=windows, cout=ppm_out)
        self.lat2 = ConvBNReLU(c2, mid, k=1)
        self.top2 = ConvBNReLU(ppm_out, mid, k=1)
        self.smooth2 = ConvBNReLU(mid, mid)
        self.lat1 = ConvBNReLU(c1, out, k=1)
        self.top1 = ConvBNReLU(mid, out, k=1)
        self.smooth1 = ConvBNReLU(out, out)
        self.out_channels = out

    def forward(self, c1, c2, c3):
        p3 = self.ppm(c3)
        p2 = self.smooth2(self.lat2(c2) + _up(self.top2(p3), c2))
        p1 = self.smooth1(self.lat1(c1) + _up(self.top1(p2), c1))
        return p1


class ESPNetv2Embedding(nn.Module):
    """The Cityscapes ESPNetv2 (``espnetv2.py``) as an embedding network for 19 fixed prototypes.

    Its 19 class logits (the extra background output dropped) are the embedding: with prototypes
    m_t = T e_t, softmax_t(-||f - m_t||^2) = softmax_t(2T f_t), so before any training the DML classifier
    predicts exactly what the Cityscapes model does, and DCE fine-tuning starts from that knowledge.
    ``backbone`` is the encoder (for its learning-rate scale)."""

    def __init__(self, out_dim=19, pretrained=None):
        super().__init__()
        from .espnetv2 import ESPNetv2Seg, load_espnetv2_cityscapes
        if out_dim != 19:
            raise ValueError(f"espnetv2 embeds the 19 Cityscapes classes, not {out_dim}")
        self.net = load_espnetv2_cityscapes(pretrained) if pretrained else ESPNetv2Seg()
        self.backbone = self.net.base_net

    def forward(self, image):
        return self.net(image)[:, :19]


class DeepLabEmbedding(nn.Module):
    """The whole Cityscapes DeepLab (MobileNet-EdgeTPU, TFLite) as an embedding network for 19 fixed prototypes.

    The embedding is its classifier's 19 logits divided by 2T: with prototypes m_t = T e_t,
    softmax_t(-||f - m_t||^2) = softmax_t(2T f_t) = softmax_t(z_t), so before any training the DML classifier
    is exactly the Cityscapes model, and fine-tuning with ``backbone`` frozen keeps what the network learnt on
    Cityscapes' 2,975 frames. A decoder of our own trained on CamVid's 367 frames (the first road model) learnt
    CamVid's look instead: on another camera it called a concrete highway "sidewalk" and "car" where this
    network says "road".

    The logits are at 1/16 of the input, too coarse for poles and the outline of a car. With ``refine`` > 0 a
    small residual module adds detail from the 1/4 features: conv3x3 over [1/4 features, coarse embedding]
    to ``refine`` channels, ReLU, conv1x1 back to the embedding, its last layer zero at the start (so training
    starts from exactly the Cityscapes model and learns only a correction)."""

    def __init__(self, path, out_dim=19, T=3.0, refine=0):
        super().__init__()
        from .mobilenetv2 import torch_weight
        from .tflite import read_tflite
        from .tflite_graph import TFLiteGraph, deeplab_classifier, deeplab_encoder_outputs
        if out_dim != 19:
            raise ValueError(f"deeplab-logits embeds the 19 Cityscapes classes, not {out_dim}")
        model = read_tflite(path)
        classifier = deeplab_classifier(model)
        quarter = deeplab_encoder_outputs(model)[0]
        outputs = [quarter, classifier.inputs[0]] if refine else [classifier.inputs[0]]
        self.backbone = TFLiteGraph(model, outputs=outputs, padding="symmetric")
        weight = torch_weight(model, classifier)
        if tuple(weight.shape[:1]) != (out_dim,) or tuple(weight.shape[2:]) != (1, 1):
            raise ValueError(f"{path}: the classifier is {tuple(weight.shape)}, not a 1x1 convolution to 19 classes")
        self.classifier = nn.Conv2d(weight.shape[1], out_dim, 1)
        with torch.no_grad():
            self.classifier.weight.copy_(weight / (2 * T))
            self.classifier.bias.copy_(torch.from_numpy(model.tensors[classifier.inputs[2]].value()) / (2 * T))
        self.refine = None
        if refine:
            cin = model.tensors[quarter].shape[-1] + out_dim
            self.refine = nn.Sequential(nn.Conv2d(cin, refine, 3, padding=1), nn.ReLU(inplace=True),
                                        nn.Conv2d(refine, out_dim, 1))
            nn.init.zeros_(self.refine[2].weight)
            nn.init.zeros_(self.refine[2].bias)

    @property
    def export_stride(self):
        """The output stride of the exported graph: with the refinement it ends at the 1/4 embedding, and the
        engine upsamples it (bilinear, corners aligned, as ``forward`` does) where it reads the output; in ONNX
        Runtime that last resize of 19 planes to the full size took a quarter of the model's time."""
        return 4 if self.refine is not None else 1

    def embed(self, image):
        """The embedding at the exported graph's output stride."""
        if self.refine is None:
            return F.interpolate(self.classifier(self.backbone(image)), size=image.shape[-2:], mode="bilinear",
                                 align_corners=True)
        quarter, head = self.backbone(image)
        coarse = F.interpolate(self.classifier(head), size=quarter.shape[-2:], mode="bilinear", align_corners=True)
        return coarse + self.refine(torch.cat([quarter, coarse], 1))

    def forward(self, image):
        y = self.embed(image)
        if self.refine is None:
            return y
        return F.interpolate(y, size=image.shape[-2:], mode="bilinear", align_corners=True)


class SegNet(nn.Module):
    """Backbone + decoder + a 1x1 output layer.

    ``head`` decides what the output means:
      * ``fixed-prototypes`` / ``linear``: raw output (embedding of size K, or logits).
      * ``learned-centres``: output L2-normalised and multiplied by ``scale`` (cosine embedding).
    The output is upsampled bilinearly to the input size (output stride 1), so the ONNX graph and the
    training loss see exactly the same tensor.
    """

    def __init__(self, backbone="small", out_dim=11, head="fixed-prototypes", widths=(24, 32, 64, 128),
                 decoder=(128, 96, 64), scale=1.0, pretrained=None, dropout=0.1, output_stride=32):
        super().__init__()
        if backbone == "small":
            self.backbone = SmallBackbone(tuple(widths))
        elif backbone in ("resnet18", "resnet50"):
            self.backbone = ResNetBackbone(backbone, pretrained)
        elif backbone == "deeplab-edgetpu":
            if not pretrained:
                raise ValueError("deeplab-edgetpu: the TFLite file (--pretrained) gives the encoder's structure")
            self.backbone = DeepLabEdgeTPUBackbone(pretrained)
        elif backbone == "mobilenetv2":
            self.backbone = MobileNetV2Backbone(pretrained, output_stride)
        else:
            raise ValueError(f"unknown backbone {backbone!r} (small, resnet18, resnet50, mobilenetv2, deeplab-edgetpu)")
        if pretrained and backbone == "small":
            state = torch.load(pretrained, map_location="cpu")
            self.backbone.load_state_dict(state.get("backbone", state), strict=True)
        ppm_out, mid, out = decoder
        self.decoder = Decoder(self.backbone.channels, ppm_out, mid, out)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Conv2d(out, out_dim, 1)
        self.head = head
        self.scale = float(scale)

    def forward(self, image):
        c1, c2, c3 = self.backbone(image)
        y = self.classifier(self.dropout(self.decoder(c1, c2, c3)))
        y = F.interpolate(y, size=image.shape[-2:], mode="bilinear", align_corners=False)
        if self.head == "learned-centres":
            y = self.scale * y / torch.sqrt((y * y).sum(1, keepdim=True) + 1e-12)
        return y


class _UpToExportStride(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net.embed(image)


def exported_network(net):
    """-> (the module an ONNX export holds, its output stride): the network up to its ``export_stride`` when it
    has one above 1 (the engine upsamples the rest, bilinear with corners aligned), else the whole network."""
    stride = getattr(net, "export_stride", 1)
    return (_UpToExportStride(net), stride) if stride > 1 else (net, 1)
