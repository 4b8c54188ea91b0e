"""Exact OOD metrics (OOD = positive class) and segmentation metrics.

AUROC: area under the ROC curve over all distinct thresholds (trapezoid; ties handled like sklearn).
AUPR : average precision, sum_n (R_n - R_{n-1}) P_n over distinct thresholds (sklearn's definition).
FPR95: false-positive rate at the first threshold (descending) whose TPR reaches 0.95.
"""
from __future__ import annotations

import numpy as np


def _curve(scores, labels):
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    order = np.argsort(-scores)
    s = scores[order]
    y = labels[order]
    distinct = np.where(np.diff(s))[0]
    idx = np.r_[distinct, y.size - 1]
    tps = np.cumsum(y)[idx].astype(np.float64)
    fps = (idx + 1 - tps).astype(np.float64)
    return tps, fps


def ood_metrics(scores, labels):
    """scores: higher = more OOD; labels: 1 for OOD pixels, 0 for known. Returns percentages."""
    tps, fps = _curve(scores, labels)
    P, N = tps[-1], fps[-1]
    if P == 0 or N == 0:
        return None
    tpr = np.r_[0.0, tps / P]
    fpr = np.r_[0.0, fps / N]
    auroc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    precision = tps / (tps + fps)
    recall = tps / P
    aupr = np.sum(np.diff(np.r_[0.0, recall]) * precision)
    k = np.searchsorted(tpr, 0.95, side="left")
    fpr95 = fpr[k]
    return {"auroc": 100 * auroc, "aupr": 100 * aupr, "fpr95": 100 * fpr95}


class OODAccumulator:
    """Collects per-image scores of labelled pixels; pooled and per-image-mean metrics."""

    def __init__(self):
        self.scores, self.labels, self.per_image = [], [], []

    def add(self, score, is_ood):
        score = np.asarray(score, dtype=np.float32).ravel()
        is_ood = np.asarray(is_ood, dtype=bool).ravel()
        self.scores.append(score)
        self.labels.append(is_ood)
        m = ood_metrics(score, is_ood)
        if m is not None:  # images with both OOD and known pixels (StreetHazards convention)
            self.per_image.append(m)

    def result(self):
        if not self.scores:
            return None
        pooled = ood_metrics(np.concatenate(self.scores), np.concatenate(self.labels))
        if pooled is None:
            return None
        out = dict(pooled)
        for k in ("auroc", "aupr", "fpr95"):
            out[k + "_image"] = float(np.mean([m[k] for m in self.per_image])) if self.per_image else None
        out["images_with_ood"] = len(self.per_image)
        return {k: (float(v) if v is not None else None) for k, v in out.items()}


class ConfusionMatrix:
    def __init__(self, k):
        self.k = k
        self.m = np.zeros((k, k), dtype=np.int64)

    def add(self, pred, gt):
        pred = np.asarray(pred).ravel().astype(np.int64)
        gt = np.asarray(gt).ravel().astype(np.int64)
        v = (gt >= 0) & (gt < self.k)
        self.m += np.bincount(self.k * gt[v] + pred[v], minlength=self.k * self.k).reshape(self.k, self.k)

    def result(self, names=None):
        tp = np.diag(self.m).astype(np.float64)
        union = self.m.sum(0) + self.m.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, tp / union, np.nan)
        present = union > 0
        names = names or [str(i) for i in range(self.k)]
        return {
            "miou": float(100 * np.nanmean(iou[present])) if present.any() else None,
            "acc": float(100 * tp.sum() / max(1, self.m.sum())),
            "perClassIoU": {n: (None if np.isnan(x) else float(100 * x)) for n, x in zip(names, iou)},
        }
