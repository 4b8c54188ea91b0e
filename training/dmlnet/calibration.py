"""Calibration on the train split: the scales of the fixed-scale scores (sMax, gMax), the pixel thresholds and
the frame thresholds that a model card carries (README, calibration)."""
from __future__ import annotations

import json

import numpy as np
import torch

from . import regions as R
from . import scores as S
from .config import open_split
from .data import SegData
from .heads import sq_distances
from .inference import forward_image, pixel_scores

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
    g = mean_t d_t - min_t d_t over those pixels; suggested pixel thresholds = percentile (default 95) of each
    score over the same pixels (about 5% of known train pixels flagged). Frame thresholds, for the app's events:
    the region frame score (dmlnet/regions.py, the app's rule) of each of those images at full resolution with
    only its known-class pixels allowed to be unknown, i.e. the frame as it would score without its unknown
    objects (and void); the threshold is its frameThresholdPercentile (default 95) over the images, so about 5%
    of frames without unknown objects rise above it. pixelFrameThresholds: the same for the old frame score
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
                   f"frame threshold = {c.get('frameThresholdPercentile', 95.0)}th percentile over those images of "
                   f"their region frame score with only known-class pixels unknown (pixelFrameThresholds: of the "
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
