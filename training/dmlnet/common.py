"""Shared pieces: configuration, model construction, checkpoints, inference, calibration, evaluation."""
from __future__ import annotations

import copy
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import regions as R
from . import scores as S
from .data import IGNORE, OOD, MEAN, STD, DataError, SegData, build_label_map, normalize, read_dataset
from .heads import make_head, sq_distances
from .metrics import ConfusionMatrix, OODAccumulator
from .model import DeepLabEmbedding, ESPNetv2Embedding, SegNet

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
                  ("model", "decoder"), ("model", "outputStride"), ("model", "head"), ("model", "embedDim"), ("model", "T"),
                  ("model", "scale")]


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


def repo_path(path):
    """A path from a config: absolute, or relative to the repository root (as `dataset.root` is)."""
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(REPO_ROOT, path))


def build(cfg, k, device="cpu", pretrained=True):
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


def open_split(cfg, split, unknown=None):
    spec = read_dataset(cfg["dataset"]["name"], data_root(cfg), split)
    lm = build_label_map(spec, cfg["dataset"]["unknown"] if unknown is None else unknown)
    return spec, lm


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
    if head.type == "linear":
        return out.argmax(1), S.linear_scores(out, gmax)
    d = sq_distances(out, head.prototypes())
    return d.argmin(1), S.metric_scores(d, smax, S.eds_floor(head.prototypes()), gmax)


# 2: EDS scaled between sFloor and sMax, frame thresholds; 3: frame score at the 90th percentile; 4: gMax of
# the margin score; 5: frame thresholds on the region frame score (dmlnet/regions.py), the percentile ones kept
# as pixelFrameThresholds.
# Export recalibrates checkpoints of older versions.
CALIBRATION_VERSION = 5
# The app's frame score before unknown regions: this percentile of the frame's pixel OOD scores.
FRAME_SCORE_PERCENTILE = 90.0


@torch.no_grad()
def calibrate(net, head, cfg, device, log=print):
    """sMax = percentile (default 99) of S = sum_t ||f - m_t||^2 over known-class TRAIN pixels (every
    imageStride-th train image in name order, every pixelStride-th pixel in each direction, model at its
    input size, no augmentation); gMax, the margin score's scale, is the same percentile of the margin
    g = mean_t d_t - min_t d_t over those pixels; suggested pixel thresholds = percentile (default 95) of each score over the
    same pixels (about 5% of known train pixels flagged). Frame thresholds, for the app's events: the region
    frame score (dmlnet/regions.py, the app's rule) of each of those images at full resolution with only its
    known-class pixels allowed to be unknown, i.e. the frame as it would score without its unknown objects (and
    void); the threshold is its frameThresholdPercentile (default 95) over the images, so about 5% of frames
    without unknown objects rise above it. pixelFrameThresholds: the same for the old frame score
    (FRAME_SCORE_PERCENTILE of the known pixels' scores), kept for comparison."""
    c = cfg["calibration"]
    spec, lm = open_split(cfg, "train")
    data = SegData(spec, lm)
    st = int(c.get("pixelStride", 2))
    ist = int(c.get("imageStride", 1))
    data.images, data.labels = data.images[::ist], data.labels[::ist]
    net.eval()
    Ss, gaps, per_image = [], [], []
    size = cfg["dataset"]["size"]
    mean, std = cfg["normalize"]["mean"], cfg["normalize"]["std"]
    for img, lab in zip(data.images, data.labels):
        out = forward_image(net, img, size, device, mean, std)[..., ::st, ::st]
        known = (lab[::st, ::st] < lm.num_known).to(out.device)
        if head.type == "linear":
            gaps.append(S.margin_gap(-out)[0][known].cpu().numpy())
            sc = S.linear_scores(out)  # margin with a placeholder scale, recomputed below
        else:
            d = sq_distances(out, head.prototypes())
            Ss.append(S.eds_sum(d)[0][known].cpu().numpy())
            gaps.append(S.margin_gap(d)[0][known].cpu().numpy())
            sc = S.metric_scores(d, 1.0)  # eds and margin with placeholder scales, recomputed below
        per_image.append({k: v[0][known].cpu().numpy() for k, v in sc.items()})
    cal = {"version": CALIBRATION_VERSION,
           "rule": f"sMax (gMax) = {c['sMaxPercentile']}th percentile of S (of the margin) over known train pixels "
                   f"(every {ist}th train image, every {st}th pixel); "
                   f"threshold = {c['thresholdPercentile']}th percentile of the score over known train pixels; "
                   f"frame threshold = {c.get('frameThresholdPercentile', 95.0)}th percentile over those images of their "
                   f"region frame score with only known-class pixels unknown (pixelFrameThresholds: of the "
                   f"{FRAME_SCORE_PERCENTILE}th percentile of the score over the image's known pixels)",
           "trainImages": len(data)}
    if gaps:
        gmax = float(np.percentile(np.concatenate(gaps), c["sMaxPercentile"]))
        cal["gMax"] = gmax
        for scores, g_img in zip(per_image, gaps):
            scores["margin"] = 1.0 - np.minimum(g_img, gmax) / gmax
    if Ss:
        allS = np.concatenate(Ss)
        smax = float(np.percentile(allS, c["sMaxPercentile"]))
        cal["sMax"] = smax
        cal["sStats"] = {"min": float(allS.min()), "median": float(np.median(allS)), "max": float(allS.max())}
        sfloor = S.eds_floor(head.prototypes())
        cal["sFloor"] = sfloor
        for scores, s_img in zip(per_image, Ss):
            pe = np.clip((smax - np.minimum(s_img, smax)) / (smax - sfloor), 0.0, 1.0)
            alpha = 1.0 / (1.0 + np.exp(-S.BETA * (pe - S.GAMMA)))
            scores["eds"] = pe
            scores["combined"] = alpha * pe + (1 - alpha) * scores["mmsp"]
    names = list(per_image[0]) if per_image else []
    cal["thresholds"] = {k: float(np.percentile(np.concatenate([p[k] for p in per_image]), c["thresholdPercentile"]))
                         for k in names}
    frame_scores = {k: [float(np.percentile(p[k], FRAME_SCORE_PERCENTILE)) for p in per_image if p[k].size]
                    for k in names}
    cal["pixelFrameThresholds"] = _frame_thresholds(frame_scores, c)
    known_names = [cls.name for cls in lm.known]
    cal["frameThresholds"] = _frame_thresholds(region_frame_scores(net, head, cfg, device, data, known_names, cal), c)
    log(f"calibration: {json.dumps(cal)}")
    return cal


def _frame_thresholds(frame_scores, c):
    return {k: float(np.percentile(v, c.get("frameThresholdPercentile", 95.0))) for k, v in frame_scores.items() if v}


@torch.no_grad()
def region_frame_scores(net, head, cfg, device, data, known_names, cal):
    """Per score named in cal["thresholds"]: the region frame score of each image, the model at full resolution
    with cal's scales and pixel thresholds, and only pixels labelled with a known class allowed to be unknown."""
    drivable, sky = R.region_places(known_names)
    size, mean, std = cfg["dataset"]["size"], cfg["normalize"]["mean"], cfg["normalize"]["std"]
    out = {k: [] for k in cal["thresholds"]}
    for img, lab in zip(data.images, data.labels):
        pred, sc = pixel_scores(forward_image(net, img, size, device, mean, std), head,
                                cal.get("sMax") or 1.0, cal.get("gMax") or 1.0)
        known = (lab < len(known_names)).numpy()
        pred = pred[0].cpu().numpy().astype(np.uint8)
        for k, threshold in cal["thresholds"].items():
            if k not in sc:
                continue
            v = sc[k][0].cpu().numpy()
            class_map = np.where((v > threshold) & known, R.UNKNOWN, pred).astype(np.uint8)
            out[k].append(R.frame_score(R.unknown_regions(class_map, v, drivable, sky)))
    return out


@torch.no_grad()
def evaluate(net, head, cfg, device, split="val", cal=None, unknown=None, log=print):
    """cal: the calibration (sMax, gMax); scores that need a missing scale are left out."""
    smax, gmax = (cal or {}).get("sMax"), (cal or {}).get("gMax")
    spec, lm = open_split(cfg, split, unknown)
    data = SegData(spec, lm)
    net.eval()
    cm = ConfusionMatrix(lm.num_known)
    accs = {}
    size = cfg["dataset"]["size"]
    mean, std = cfg["normalize"]["mean"], cfg["normalize"]["std"]
    t0 = time.time()
    for img, lab in zip(data.images, data.labels):
        out = forward_image(net, img, size, device, mean, std)
        pred, sc = pixel_scores(out, head, smax or 1.0, gmax or 1.0)
        lab_np = lab.numpy()
        cm.add(pred[0].cpu().numpy(), lab_np)
        valid = lab_np != IGNORE
        is_ood = lab_np == OOD
        for k, v in sc.items():
            if not lm.unknown and not spec.ood_ids:
                break  # no OOD pixels possible: segmentation metrics only
            if (k in ("eds", "combined") and not smax) or (k == "margin" and not gmax):
                continue
            accs.setdefault(k, OODAccumulator()).add(v[0].cpu().numpy(), is_ood, valid)
    res = cm.result([c.name for c in lm.known])
    res["images"] = len(data)
    res["seconds"] = round(time.time() - t0, 1)
    ood = {}
    for k, a in accs.items():
        r = a.result()
        if r is not None:
            ood[k] = r
    res["ood"] = ood
    res["split"] = split
    res["unknown"] = [c.name for c in lm.unknown]
    return res


def calibrate_and_evaluate(state, net, head, cfg, device, ckpt_path, log=print):
    """Calibrate on train, evaluate on val, store both in the checkpoint file and in metrics.json beside it."""
    cal = calibrate(net, head, cfg, device, log)
    res = evaluate(net, head, cfg, device, "val", cal=cal, log=log)
    log("\n" + format_table(res))
    state["calibration"], state["metrics"] = cal, {"val": res}
    tmp = ckpt_path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, ckpt_path)
    with open(os.path.join(os.path.dirname(ckpt_path), "metrics.json"), "w") as f:
        json.dump({"calibration": cal, "val": res, "steps": state["step"], "seconds": state["elapsed"]}, f, indent=1)
    return cal, res


def format_table(res):
    lines = [f"split={res['split']} images={res['images']} unknown={','.join(res['unknown']) or '-'}",
             f"mIoU {res['miou']:.2f}  acc {res['acc']:.2f}"]
    if res["ood"]:
        lines.append(f"{'score':<16}{'AUROC':>8}{'AUPR':>8}{'FPR95':>8} | {'AUROC/i':>8}{'AUPR/i':>8}{'FPR95/i':>8}")
        for k, r in res["ood"].items():
            def f(x):
                return f"{x:8.2f}" if x is not None else f"{'-':>8}"
            lines.append(f"{k:<16}{f(r['auroc'])}{f(r['aupr'])}{f(r['fpr95'])} | "
                         f"{f(r['auroc_image'])}{f(r['aupr_image'])}{f(r['fpr95_image'])}")
    if res["ood"]:
        lines.append(f"components (SegmentMeIfYouCan) at the best pixel F1: {'score':<16}{'pixF1':>8}{'sIoU':>8}"
                     f"{'PPV':>8}{'mF1':>8}")
        for k, r in res["ood"].items():
            def g(x):
                return f"{x:8.2f}" if x is not None else f"{'-':>8}"
            lines.append(f"{'':<51}{k:<16}{g(r.get('pixel_f1'))}{g(r.get('siou'))}{g(r.get('ppv'))}"
                         f"{g(r.get('mean_f1'))}")
    lines.append("per-class IoU: " + ", ".join(f"{n} {v:.1f}" if v is not None else f"{n} -"
                                               for n, v in res["perClassIoU"].items()))
    return "\n".join(lines)


def lr_factor(step, progress, warmup, power):
    w = min(1.0, (step + 1) / max(1, warmup))
    return w * max(0.0, 1.0 - progress) ** power


def seed_all(seed):
    import random
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def finite(x):
    return x is not None and math.isfinite(x)
