"""The network a configuration describes, and checkpoints of it (runs/NAME/last.pt): a dict with the config,
its signature, the network's and head's state dicts, the optimiser's, step, elapsed seconds and the classes;
after calibration also `calibration` and `metrics`."""
from __future__ import annotations

import os

import torch

from .config import embed_dim, repo_path
from .data import DataError
from .heads import make_head
from .model import DeepLabEmbedding, ESPNetv2Embedding, SegNet


def build(cfg, k, device="cpu", pretrained=True):
    """(network, head) for k known classes; `pretrained` loads the config's backbone weights (always for the
    DeepLab backbones, whose structure comes from the file)."""
    m = cfg["model"]
    d = embed_dim(cfg, k)
    structure_from_file = m["backbone"] in ("deeplab-edgetpu", "deeplab-logits")
    weights = repo_path(m["pretrained"]) if (pretrained or structure_from_file) and m.get("pretrained") else None
    if m["backbone"] == "espnetv2":
        net = ESPNetv2Embedding(d, weights)
    elif m["backbone"] == "deeplab-logits":
        net = DeepLabEmbedding(weights, d, T=m["T"], refine=m.get("refine", 0))
    else:
        net = SegNet(backbone=m["backbone"], out_dim=d, head=m["head"], widths=m["widths"], decoder=m["decoder"],
                     scale=m["scale"], pretrained=weights, dropout=m.get("dropout", 0.1),
                     output_stride=m.get("outputStride", 32))  # configs from before it: no MobileNetV2
    head = make_head(m["head"], k, d, T=m["T"], scale=m["scale"])
    return net.to(device), head.to(device)


def resolve_device(name):
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but CUDA is not available")
    return torch.device(name)


def load_checkpoint(path, device="cpu", expect_signature=None):
    if not os.path.isfile(path):
        raise DataError(f"{path}: checkpoint not found")
    try:
        ck = torch.load(path, map_location=device)
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{path}: unreadable checkpoint ({e})") from None
    if not isinstance(ck, dict) or "signature" not in ck or "model" not in ck:
        raise DataError(f"{path}: not a dmlnet checkpoint")
    if expect_signature is not None and ck["signature"] != expect_signature:
        diff = [f"{k}: checkpoint {ck['signature'].get(k)!r} vs requested {v!r}"
                for k, v in expect_signature.items() if ck["signature"].get(k) != v]
        raise DataError(f"{path}: checkpoint from another configuration ({'; '.join(diff)})")
    return ck


def restore(ck, device="cpu"):
    """(network, head) of a loaded checkpoint, in eval mode."""
    net, head = build(ck["config"], len(ck["known"]), device, pretrained=False)
    net.load_state_dict(ck["model"])
    head.load_state_dict(ck["head"])
    net.eval()
    return net, head


def save_checkpoint(state, path):
    """Through a temporary file, so that a run stopped mid-write leaves the previous checkpoint whole."""
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)
