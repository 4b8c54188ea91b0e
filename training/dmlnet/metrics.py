"""Exact OOD metrics (OOD = positive class) and segmentation metrics.

AUROC: area under the ROC curve over all distinct thresholds (trapezoid; ties handled like sklearn).
AUPR : average precision, sum_n (R_n - R_{n-1}) P_n over distinct thresholds (sklearn's definition).
FPR95: false-positive rate at the first threshold (descending) whose TPR reaches 0.95.
best F1: the largest pixel F1 over the thresholds, and its threshold (a pixel at or above it is predicted OOD).

Component metrics (SegmentMeIfYouCan, Chan et al. 2021; the same definitions as the app's
src-main/evaluation/component-metrics.ts): at the best-F1 pixel threshold, predicted (non-void) and ground-truth
anomalies form 8-connected components; predicted ones under 500 px are dropped, ground-truth ones under 100 px
become void. sIoU of a ground-truth component k = |k & P(k)| / |(k | P(k)) - A(k)|, P(k) the predicted components
touching k, A(k) the pixels of other ground-truth components; PPV of a predicted component p = |p & anomaly| / |p|.
At tau = 0.25, 0.30, ..., 0.75: TP = sIoU > tau, FN the rest, FP = PPV <= tau (the paper's inequalities and PPV;
the benchmark's code uses sIoU >= tau and an adjusted IoU of the prediction); F1 = 2TP / (2TP + FN + FP) with counts
summed over the images; mean F1 over the taus.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

SIOU_THRESHOLDS = [t / 100 for t in range(25, 80, 5)]
MIN_PREDICTED_PIXELS = 500
MIN_TRUTH_PIXELS = 100
_EIGHT = np.ones((3, 3), bool)


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


def best_f1(scores, labels):
    """(F1 in percent, threshold): the best pixel F1 over the distinct scores, predicting OOD at score >= threshold."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    tps, fps = _curve(scores, labels)
    if tps[-1] == 0:
        return None, None
    f1 = 2 * tps / (tps + fps + tps[-1])
    i = int(np.argmax(f1))
    distinct = np.sort(np.unique(scores))[::-1]
    return float(100 * f1[i]), float(distinct[i])


def _kept(mask, min_pixels):
    """8-connected components of at least min_pixels, numbered 1..n in label order."""
    labels, n = ndimage.label(mask, structure=_EIGHT)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_pixels
    keep[0] = False
    number = np.zeros(n + 1, np.int64)
    number[keep] = np.arange(1, keep.sum() + 1)
    return number[labels], int(keep.sum())


def segment_components(predicted, truth):
    """predicted [H,W] bool, truth [H,W]: 1 anomaly, 0 in-distribution, 255 void -> (sIoU per ground-truth
    component, PPV per predicted component)."""
    predicted, truth = np.asarray(predicted, bool), np.asarray(truth)
    if predicted.shape != truth.shape:
        raise ValueError(f"component metrics: prediction {predicted.shape[::-1]} and ground truth "
                         f"{truth.shape[::-1]} differ in size (width x height)")
    pred, n_pred = _kept(predicted & (truth != 255), MIN_PREDICTED_PIXELS)
    gt, n_gt = _kept(truth == 1, MIN_TRUTH_PIXELS)
    roi = (truth != 255) & ~((truth == 1) & (gt == 0))
    pred, gt = pred[roi], gt[roi]
    pred_size = np.bincount(pred, minlength=n_pred + 1)
    gt_size = np.bincount(gt, minlength=n_gt + 1)
    both = (gt > 0) & (pred > 0)
    overlap = np.zeros((n_gt + 1, n_pred + 1), np.int64)
    np.add.at(overlap, (gt[both], pred[both]), 1)
    on_truth = overlap.sum(0)
    siou = []
    for k in range(1, n_gt + 1):
        if gt_size[k] == 0:
            continue
        touching = overlap[k] > 0
        inter = overlap[k].sum()
        union = pred_size[touching].sum() + gt_size[k] - inter - (on_truth[touching] - overlap[k][touching]).sum()
        siou.append(float(inter / union))
    ppv = [float(on_truth[p] / pred_size[p]) for p in range(1, n_pred + 1) if pred_size[p] > 0]
    return siou, ppv


def component_metrics(per_image):
    """per_image: [(sIoU list, PPV list)] -> {"siou", "ppv", "mean_f1"} in percent (None where undefined)."""
    siou = np.array([v for s, _ in per_image for v in s])
    ppv = np.array([v for _, p in per_image for v in p])
    f1 = []
    for tau in SIOU_THRESHOLDS:
        tp = int((siou > tau).sum())
        fp = int((ppv <= tau).sum())
        denominator = 2 * tp + (len(siou) - tp) + fp
        f1.append(2 * tp / denominator if denominator else None)
    return {"siou": float(100 * siou.mean()) if siou.size else None,
            "ppv": float(100 * ppv.mean()) if ppv.size else None,
            "mean_f1": float(100 * np.mean(f1)) if None not in f1 else None,
            "components_gt": int(siou.size), "components_predicted": int(ppv.size)}


class OODAccumulator:
    """Collects per-image scores of labelled pixels; pooled and per-image-mean metrics, and with the images'
    masks of labelled pixels the component metrics at the best pixel F1."""

    def __init__(self):
        self.scores, self.labels, self.per_image, self.masks = [], [], [], []

    def add(self, score, is_ood, valid=None):
        """score, is_ood: the labelled pixels, or whole [H,W] maps with `valid` their mask of labelled pixels."""
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            self.masks.append(valid)
            score, is_ood = np.asarray(score)[valid], np.asarray(is_ood)[valid]
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
        all_scores, all_labels = np.concatenate(self.scores), np.concatenate(self.labels)
        out["pixel_f1"], out["pixel_f1_threshold"] = best_f1(all_scores, all_labels)
        if len(self.masks) == len(self.scores):
            out.update(self.components(out["pixel_f1_threshold"]))
        return {k: (float(v) if v is not None else None) for k, v in out.items()}

    def components(self, threshold):
        """Component metrics with pixels at or above `threshold` predicted, from the stored maps."""
        per_image = []
        for mask, score, is_ood in zip(self.masks, self.scores, self.labels):
            predicted = np.zeros(mask.shape, bool)
            predicted[mask] = score >= np.float32(threshold)
            truth = np.full(mask.shape, 255, np.uint8)
            truth[mask] = is_ood
            per_image.append(segment_components(predicted, truth))
        return component_metrics(per_image)


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
