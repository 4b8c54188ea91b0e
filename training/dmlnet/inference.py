"""The model on one image: its output at the label resolution, and every pixel's class and OOD scores."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import scores as S
from .data import MEAN, STD, normalize
from .heads import sq_distances


@torch.no_grad()
def forward_image(net, img_u8, size, device, mean=MEAN, std=STD):
    """img_u8 [3,H,W] uint8 -> network output [1,C,H,W] at the label resolution (model run at size=(w,h))."""
    h0, w0 = img_u8.shape[-2:]
    x = normalize(img_u8, mean, std)[None].to(device)
    if size is not None and (w0, h0) != tuple(size):
        x = F.interpolate(x, size=(size[1], size[0]), mode="bilinear", align_corners=False)
    y = net(x)
    if y.shape[-2:] != (h0, w0):
        y = F.interpolate(y, size=(h0, w0), mode="bilinear", align_corners=False)
    return y


def pixel_scores(out, head, smax, gmax):
    """(nearest class [1,H,W], {score name: [1,H,W]}) of a network output."""
    if head.type == "linear":
        return out.argmax(1), S.linear_scores(out, gmax)
    d = sq_distances(out, head.prototypes())
    return d.argmin(1), S.metric_scores(d, smax, S.eds_floor(head.prototypes()), gmax)
