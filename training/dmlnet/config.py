"""Training configuration: the defaults every configs/*.json is merged onto, the paths it is read against,
the signature a checkpoint must match to be resumed, and the dataset splits it names."""
from __future__ import annotations

import copy
import json
import os

from .data import MEAN, STD, DataError, build_label_map, read_dataset

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TRAINING_DIR)
DEFAULT_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "datasets", "camvid"))

DEFAULT_CONFIG = {
    "name": "camvid",
    "description": "",
    "dataset": {"name": "camvid", "root": None, "unknown": [], "size": [480, 360]},
    "model": {"backbone": "small", "widths": [32, 48, 96, 192], "decoder": [128, 96, 64],
              "head": "fixed-prototypes", "embedDim": None, "T": 3.0, "scale": 4.0,
              "pretrained": None, "dropout": 0.1, "outputStride": 32},
    "loss": {"lambda": 0.01, "circleM": 0.25, "circleGamma": 64.0},
    "optim": {"lr": 0.002, "weightDecay": 0.01, "batch": 8, "warmup": 100, "poly": 0.9, "backboneLrScale": 1.0},
    "aug": {"crop": [256, 256], "scale": [0.75, 1.5], "jitter": 0.25},
    "train": {"minutes": None, "steps": 1000, "seed": 0, "ckptEvery": 100, "logEvery": 10},
    "calibration": {"sMaxPercentile": 99.0, "thresholdPercentile": 95.0, "frameThresholdPercentile": 95.0,
                    "pixelStride": 2, "imageStride": 3},
    "scores": {"default": None},
    "normalize": {"mean": list(MEAN), "std": list(STD)},
}

SIGNATURE_KEYS = [("dataset", "name"), ("dataset", "unknown"), ("model", "backbone"), ("model", "widths"),
                  ("model", "decoder"), ("model", "outputStride"), ("model", "head"), ("model", "embedDim"),
                  ("model", "T"), ("model", "scale")]


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(path=None, overrides=None):
    cfg = DEFAULT_CONFIG
    if path:
        with open(path) as f:
            try:
                cfg = deep_merge(cfg, json.load(f))
            except json.JSONDecodeError as e:
                raise DataError(f"{path}: invalid JSON config ({e})") from None
    return deep_merge(cfg, overrides or {})


def repo_path(path):
    """A path from a config: absolute, or relative to the repository root (as `dataset.root` is)."""
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(REPO_ROOT, path))


def data_root(cfg):
    root = cfg["dataset"].get("root")
    return repo_path(root) if root else DEFAULT_DATA


def signature(cfg, known_names):
    sig = {f"{a}.{b}": cfg[a].get(b) for a, b in SIGNATURE_KEYS}
    sig["classes"] = list(known_names)
    return sig


def embed_dim(cfg, k):
    head = cfg["model"]["head"]
    if head in ("fixed-prototypes", "linear"):
        return k
    return int(cfg["model"]["embedDim"] or 16)


def open_split(cfg, split, unknown=None):
    spec = read_dataset(cfg["dataset"]["name"], data_root(cfg), split)
    lm = build_label_map(spec, cfg["dataset"]["unknown"] if unknown is None else unknown)
    return spec, lm
