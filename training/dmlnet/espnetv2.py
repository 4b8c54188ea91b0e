"""ESPNetv2 semantic segmentation, width s = 2.0, as trained on Cityscapes by its authors.

A reimplementation, in this project's style, of the network defined in Sachin Mehta's EdgeNets repository
(github.com/sacmehta/EdgeNets, commit 2b232d3; MIT licence, Copyright (c) 2021 Sachin Mehta, the text is in
``../shared/pretrained/LICENSE-EdgeNets.txt``): ``model/segmentation/espnetv2.py`` (the decoder),
``model/classification/espnetv2.py`` with ``espnetv2_config.py`` (the EESPNet encoder), ``nn_layers/eesp.py``
(EESP block, strided down-sampler), ``nn_layers/efficient_pyramid_pool.py``, ``nn_layers/efficient_pt.py``,
``nn_layers/espnet_utils.py`` and ``nn_layers/cnn_utils.py`` (conv/BN/PReLU blocks, channel shuffle).
Paper: S. Mehta, M. Rastegari, L. Shapiro, H. Hajishirzi, "ESPNetv2: A Light-weight, Power Efficient, and
General Purpose Convolutional Neural Network", CVPR 2019.

Module names follow the original so that its state dict
``../shared/pretrained/cityscapes/espnetv2_s_2.0_city_1024x512.pth`` loads strictly (526 entries, 789,242
parameters). Output: 20 logits per pixel at the input resolution (the original upsamples its stride-2
logits bilinearly, ``align_corners=True``), in the order of ``CITYSCAPES_CLASSES``: the 19 Cityscapes
train ids (0 road ... 18 bicycle) and 19 = background.

Where this differs from the original, on purpose (the logits are the same wherever the original runs):
  * The original's decoder upsamples by a factor of two and adds the encoder's skip features, so it fails
    unless H and W are multiples of 16. Here each upsampling takes its size from the skip tensor: identical
    for those sizes (``align_corners=True`` ignores the scale factor), and any size works.
  * The input-reinforcement shortcut pools the image with a ``while`` loop until its height matches; the
    number of poolings is 2, 3 and 4 at the three down-samplers for any input at least 9 pixels high
    (below that the original's loop can stop earlier), so the pooled images are computed once, in a chain.
  * The efficient pyramid pooling uses ``F.adaptive_avg_pool2d`` to sizes derived from the feature map,
    which the ONNX exporter would bake in. Under tracing (``torch.onnx.export``) the same average is
    computed from a float64 cumulative sum gathered at PyTorch's adaptive-pooling window bounds, with the
    sizes computed from the traced shape exactly as the original does (``max(ceil(n * s), 5)`` in float64),
    so the exported graph keeps H and W dynamic. Eager mode keeps ``F.adaptive_avg_pool2d``.

Preprocessing (``data_loader/segmentation/cityscapes.py`` and ``transforms/``): PIL RGB image resized to
``INPUT_SIZE`` (width, height) with bilinear filtering, scaled to [0, 1], then ImageNet ``MEAN``/``STD``.
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Preprocessing of the original Cityscapes pipeline: RGB channel order, x / 255, then (x - MEAN) / STD.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CHANNEL_ORDER = "RGB"
INPUT_SIZE = (1024, 512)  # (width, height), the size the weights were trained and evaluated at

# Output index -> class: Cityscapes train ids 0..18, then the extra "background" output of EdgeNets.
CITYSCAPES_CLASSES = [
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
    "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle", "background",
]
NUM_CLASSES = len(CITYSCAPES_CLASSES)

# EESPNet at s = 2.0 (espnetv2_config.py): channels of levels 1-4, EESP repeats at levels 3 and 4,
# receptive-field limit per level, parallel branches per EESP block, channels of the image shortcut.
_CHANNELS = (32, 128, 256, 512)
_REPEATS = (3, 7)
_RECEPT_LIMIT = (13, 11, 9, 7, 5)
_BRANCHES = 4
_REINF_CHANNELS = 3
# Decoder for Cityscapes: base width 16 -> pyramid outputs 64, 48, 32, then the classes.
_DEC_BASE = 16
_PYR_SCALES = (2.0, 1.5, 1.0, 0.5, 0.1)
FEATURE_CHANNELS = min(NUM_CLASSES // 2, _DEC_BASE)  # 10: channels of ESPNetv2Seg.features()


# ----------------------------------------------------------------------------------------------------
# Building blocks. Two layouts of conv+BN+PReLU exist in the original (attributes vs a Sequential);
# both are kept because the state-dict keys depend on them.


class ConvBNAct(nn.Module):
    """Conv (no bias) -> BN -> optional PReLU, as attributes ``conv``/``bn``/``act`` (espnet_utils.CBR/CB)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        if act:
            self.act = nn.PReLU(cout)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if hasattr(self, "act") else x


class BNAct(nn.Module):
    """BN -> PReLU as attributes ``bn``/``act`` (espnet_utils.BR)."""

    def __init__(self, c):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.PReLU(c)

    def forward(self, x):
        return self.act(self.bn(x))


class DilatedDW(nn.Module):
    """Depth-wise 3x3 conv with a dilation, attribute ``conv`` (espnet_utils.CDilated)."""

    def __init__(self, c, stride, dilation):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride, dilation, dilation=dilation, groups=c, bias=False)

    def forward(self, x):
        return self.conv(x)


class SeqCBR(nn.Module):
    """Conv (no bias) -> BN -> PReLU held in a Sequential named ``cbr`` (cnn_utils.CBR)."""

    def __init__(self, cin, cout, k, groups=1):
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(cin, cout, k, 1, (k - 1) // 2, groups=groups, bias=False),
                                 nn.BatchNorm2d(cout), nn.PReLU(cout))

    def forward(self, x):
        return self.cbr(x)


class SeqBR(nn.Module):
    """BN -> PReLU held in a Sequential named ``br`` (cnn_utils.BR)."""

    def __init__(self, c):
        super().__init__()
        self.br = nn.Sequential(nn.BatchNorm2d(c), nn.PReLU(c))

    def forward(self, x):
        return self.br(x)


class ChannelShuffle(nn.Module):
    """Interleave ``groups`` channel groups (cnn_utils.Shuffle)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        b, c, h, w = x.shape
        return x.reshape(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def branch_dilations(k, r_lim):
    """Dilations of the EESP branches: kernel sizes 3, 5, 7, ... capped at ``r_lim`` (back to 3), sorted."""
    sizes = sorted(3 + 2 * i if 3 + 2 * i <= r_lim else 3 for i in range(k))
    return [(s - 1) // 2 for s in sizes]


class EESP(nn.Module):
    """Reduce (group 1x1) -> split into k dilated depth-wise branches -> hierarchical sums -> merge.

    With ``stride=2`` it is the strided branch of ``DownSampler``: no residual, no final PReLU (the
    original still creates ``module_act`` there, so the weights file holds it; it is unused)."""

    def __init__(self, cin, cout, stride=1, k=_BRANCHES, r_lim=7):
        super().__init__()
        n = cout // k
        assert n * k == cout, "EESP output channels must divide by the branch count"
        self.stride = stride
        self.proj_1x1 = ConvBNAct(cin, n, 1, groups=k)
        self.spp_dw = nn.ModuleList(DilatedDW(n, stride, d) for d in branch_dilations(k, r_lim))
        self.conv_1x1_exp = ConvBNAct(cout, cout, 1, groups=k, act=False)
        self.br_after_cat = BNAct(cout)
        self.module_act = nn.PReLU(cout)

    def forward(self, x):
        y = self.proj_1x1(x)
        branches, acc = [], None
        for conv in self.spp_dw:
            acc = conv(y) if acc is None else acc + conv(y)  # hierarchical feature fusion
            branches.append(acc)
        out = self.conv_1x1_exp(self.br_after_cat(torch.cat(branches, 1)))
        if self.stride == 2:
            return out
        return self.module_act(out + x)


def pool_image(img):
    """The input-reinforcement pooling: 3x3 average, stride 2, padding counted (nn.AvgPool2d default)."""
    return F.avg_pool2d(img, 3, 2, 1)


class DownSampler(nn.Module):
    """Halve the resolution: [3x3 average pool of x, strided EESP of x] + a shortcut from the image."""

    def __init__(self, cin, cout, r_lim, k=_BRANCHES):
        super().__init__()
        self.eesp = EESP(cin, cout - cin, stride=2, k=k, r_lim=r_lim)
        self.inp_reinf = nn.Sequential(ConvBNAct(3, _REINF_CHANNELS, 3),
                                       ConvBNAct(_REINF_CHANNELS, cout, 1, act=False))
        self.act = nn.PReLU(cout)

    def forward(self, x, img):
        """``img``: the input image pooled to this block's output size (see ``pool_image``)."""
        out = torch.cat([pool_image(x), self.eesp(x)], 1)
        return self.act(out + self.inp_reinf(img))


class EESPNetEncoder(nn.Module):
    """EESPNet levels 1-4 (the ImageNet classifier without level 5 and its classifier)."""

    def __init__(self):
        super().__init__()
        c1, c2, c3, c4 = _CHANNELS
        r = _RECEPT_LIMIT
        self.level1 = ConvBNAct(3, c1, 3, stride=2)
        self.level2_0 = DownSampler(c1, c2, r_lim=r[0])
        self.level3_0 = DownSampler(c2, c3, r_lim=r[1])
        self.level3 = nn.ModuleList(EESP(c3, c3, r_lim=r[2]) for _ in range(_REPEATS[0]))
        self.level4_0 = DownSampler(c3, c4, r_lim=r[2])
        self.level4 = nn.ModuleList(EESP(c4, c4, r_lim=r[3]) for _ in range(_REPEATS[1]))

    def forward(self, x):
        """Features at strides 2, 4, 8, 16 (32, 128, 256, 512 channels)."""
        img4 = pool_image(pool_image(x))
        img8 = pool_image(img4)
        img16 = pool_image(img8)
        e1 = self.level1(x)
        e2 = self.level2_0(e1, img4)
        e3 = self.level3_0(e2, img8)
        for block in self.level3:
            e3 = block(e3)
        e4 = self.level4_0(e3, img16)
        for block in self.level4:
            e4 = block(e4)
        return e1, e2, e3, e4


# ----------------------------------------------------------------------------------------------------
# Efficient pyramid pooling, with an adaptive average pool that stays dynamic under tracing.


def pyramid_size(n, scale):
    """The original's branch size: max(ceil(n * scale), 5), computed in float64 like Python's floats."""
    if isinstance(n, torch.Tensor):  # a traced shape
        return torch.clamp(torch.ceil(n.to(torch.float64) * scale).to(torch.int64), min=5)
    return max(int(math.ceil(n * scale)), 5)


def _adaptive_avg_axis(x, dim, n_out):
    """Adaptive average pooling along one axis: window i is [floor(i*n/m), ceil((i+1)*n/m)).

    The window sums come from a float64 cumulative sum, c[e-1] - c[s] + x[s]. Sizes are non-negative,
    so truncating integer division is floor division (and exports as a plain ONNX Div)."""
    n_in = x.shape[dim]
    i = torch.arange(n_out)
    start = torch.div(i * n_in, n_out, rounding_mode="trunc")
    end = torch.div((i + 1) * n_in + n_out - 1, n_out, rounding_mode="trunc")
    x64 = x.to(torch.float64)
    csum = torch.cumsum(x64, dim)
    total = csum.index_select(dim, end - 1) - csum.index_select(dim, start) + x64.index_select(dim, start)
    shape = [1] * x.dim()
    shape[dim] = -1
    return (total / (end - start).to(torch.float64).reshape(shape)).to(x.dtype)


def adaptive_avg_pool(x, size):
    """``F.adaptive_avg_pool2d(x, size)``; under tracing an equivalent whose sizes stay symbolic."""
    if not torch.jit.is_tracing():
        return F.adaptive_avg_pool2d(x, (int(size[0]), int(size[1])))
    return _adaptive_avg_axis(_adaptive_avg_axis(x, 2, size[0]), 3, size[1])


def resize(x, size):
    return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


class EfficientPyrPool(nn.Module):
    """Project, then depth-wise 3x3 convs at scales 2, 1.5, 1, 0.5, 0.1 of the map, shuffle and merge."""

    def __init__(self, cin, proj, cout, last_bn_act=True):
        super().__init__()
        g = len(_PYR_SCALES)
        self.projection_layer = SeqCBR(cin, proj, 1)
        self.stages = nn.ModuleList(nn.Conv2d(proj, proj, 3, 1, 1, groups=proj, bias=False) for _ in range(g))
        self.merge_layer = nn.Sequential(SeqBR(proj * g), ChannelShuffle(g), SeqCBR(proj * g, proj, 3, groups=proj),
                                         nn.Conv2d(proj, cout, 1, bias=not last_bn_act))
        if last_bn_act:
            self.br = SeqBR(cout)

    def branch(self, x, conv, scale):
        h, w = x.shape[2:]
        small = (pyramid_size(h, scale), pyramid_size(w, scale))
        if scale > 1.0:
            return adaptive_avg_pool(conv(resize(x, small)), (h, w))
        if scale < 1.0:
            return resize(conv(adaptive_avg_pool(x, small)), (h, w))
        return conv(x)

    def mixed(self, x):
        """Everything up to (not including) the final 1x1 conv: ``proj`` channels."""
        x = self.projection_layer(x)
        out = torch.cat([self.branch(x, conv, s) for conv, s in zip(self.stages, _PYR_SCALES)], 1)
        return self.merge_layer[2](self.merge_layer[1](self.merge_layer[0](out)))

    def forward(self, x):
        out = self.merge_layer[3](self.mixed(x))
        return self.br(out) if hasattr(self, "br") else out


class EfficientPWConv(nn.Module):
    """Grouped 3x3 conv+BN+PReLU gated per channel by sigmoid(1x1 conv of the global average)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.wt_layer = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.Sigmoid())
        self.expansion_layer = SeqCBR(cin, cout, 3, groups=math.gcd(cin, cout))

    def forward(self, x):
        return self.expansion_layer(x) * self.wt_layer(x)


def bn_prelu(c):
    return nn.Sequential(nn.BatchNorm2d(c), nn.PReLU(c))


# ----------------------------------------------------------------------------------------------------


class ESPNetv2Seg(nn.Module):
    """ESPNetv2 segmentation network (s = 2.0, Cityscapes decoder). Input: normalised RGB [B,3,H,W].

    ``forward(x)`` -> logits [B, num_classes, H, W]. ``features(x)`` -> the decoder's last feature map,
    the input of the final 1x1 classifier (``bu_dec_l4.merge_layer[3]``): [B, FEATURE_CHANNELS = 10,
    ceil(H/2), ceil(W/2)] (stride 2; ``forward`` is that classifier followed by a bilinear upsampling,
    which commute)."""

    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        c1, c2, c3, c4 = _CHANNELS
        d = [4 * _DEC_BASE, 3 * _DEC_BASE, 2 * _DEC_BASE, num_classes]
        proj = min(num_classes // 2, _DEC_BASE)
        self.base_net = EESPNetEncoder()
        self.bu_dec_l1 = EfficientPyrPool(c4, proj, d[0])
        self.bu_dec_l2 = EfficientPyrPool(d[0], proj, d[1])
        self.bu_dec_l3 = EfficientPyrPool(d[1], proj, d[2])
        self.bu_dec_l4 = EfficientPyrPool(d[2], proj, d[3], last_bn_act=False)
        self.merge_enc_dec_l2 = EfficientPWConv(c3, d[0])
        self.merge_enc_dec_l3 = EfficientPWConv(c2, d[1])
        self.merge_enc_dec_l4 = EfficientPWConv(c1, d[2])
        self.bu_br_l2 = bn_prelu(d[0])
        self.bu_br_l3 = bn_prelu(d[1])
        self.bu_br_l4 = bn_prelu(d[2])
        self.feature_channels = proj

    def _decoder_input(self, x):
        """The last pyramid module's input: [B, 32, ceil(H/2), ceil(W/2)]."""
        e1, e2, e3, e4 = self.base_net(x)
        y = self.bu_dec_l1(e4)
        for skip, merge, br, dec in ((e3, self.merge_enc_dec_l2, self.bu_br_l2, self.bu_dec_l2),
                                     (e2, self.merge_enc_dec_l3, self.bu_br_l3, self.bu_dec_l3)):
            y = dec(br(resize(y, skip.shape[2:]) + merge(skip)))
        return self.bu_br_l4(resize(y, e1.shape[2:]) + self.merge_enc_dec_l4(e1))

    def features(self, x):
        """Decoder features before the classifier: [B, 10, ceil(H/2), ceil(W/2)]."""
        return self.bu_dec_l4.mixed(self._decoder_input(x))

    def forward(self, x):
        logits = self.bu_dec_l4.merge_layer[3](self.features(x))
        return resize(logits, x.shape[2:])


# ----------------------------------------------------------------------------------------------------


def _read_state_dict(path):
    try:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a PyTorch without weights_only
            sd = torch.load(path, map_location="cpu")
    except Exception as e:  # not a torch file, truncated, or not loadable as weights
        raise ValueError(f"{path}: not a PyTorch state dict ({type(e).__name__}: {e})") from None
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{path}: not a PyTorch state dict (a {type(sd).__name__}, not names -> tensors)")
    return sd


def load_espnetv2_cityscapes(path):
    """The EdgeNets Cityscapes ESPNetv2 (s = 2.0) from its state dict, loaded strictly, in eval mode.

    Raises ValueError naming the file when it is not a state dict or any key or shape differs."""
    path = os.fspath(path)
    sd = _read_state_dict(path)
    net = ESPNetv2Seg()
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split("\n", 1)[-1].split())  # torch's message, on one line
        raise ValueError(f"{path}: not the ESPNetv2 s=2.0 Cityscapes weights: {detail}") from None
    return net.eval()


def preprocess(image, size=INPUT_SIZE):
    """RGB image (PIL or uint8 HxWx3 array) -> [1,3,h,w] float tensor as the original feeds the network.

    ``size`` (width, height) resizes with PIL bilinear filtering, as the original's evaluation does;
    None keeps the image's size."""
    from PIL import Image

    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    img = img.convert("RGB")
    if size is not None and tuple(img.size) != tuple(size):
        img = img.resize(tuple(size), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = (arr - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None]
