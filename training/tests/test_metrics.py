import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from dmlnet.metrics import ConfusionMatrix, OODAccumulator, ood_metrics


def fpr95_direct(scores, labels):
    """FPR at the highest threshold whose TPR >= 0.95, by brute force over all thresholds."""
    best = None
    for t in sorted(set(scores), reverse=True):
        pred = scores >= t
        tpr = (pred & labels).sum() / labels.sum()
        if tpr >= 0.95:
            best = (pred & ~labels).sum() / (~labels).sum()
            break
    return 100 * best


def test_hand_made_case():
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 0, 1, 0, 0, 0], bool)
    m = ood_metrics(s, y)
    # ROC: positives at ranks 1 and 3 -> AUROC = (4 + 3) / 8
    assert abs(m["auroc"] - 100 * 7 / 8) < 1e-9
    # AP = (1/1 + 2/3) / 2
    assert abs(m["aupr"] - 100 * (1 + 2 / 3) / 2) < 1e-9
    # TPR reaches 1 at threshold 0.7: FPR = 1/4
    assert abs(m["fpr95"] - 25.0) < 1e-9


def test_against_sklearn_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(5):
        n = 500
        y = rng.random(n) < 0.2
        s = np.round(rng.normal(y * 1.0, 1.0), 1)  # rounding creates many ties
        m = ood_metrics(s, y)
        assert abs(m["auroc"] - 100 * roc_auc_score(y, s)) < 1e-9
        assert abs(m["aupr"] - 100 * average_precision_score(y, s)) < 1e-9
        assert abs(m["fpr95"] - fpr95_direct(s, y)) < 1e-9
        fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
        assert abs(m["fpr95"] - 100 * fpr[np.searchsorted(tpr, 0.95)]) < 1e-9


def test_pooled_and_per_image():
    acc = OODAccumulator()
    a = (np.array([0.9, 0.1, 0.2]), np.array([1, 0, 0], bool))
    b = (np.array([0.5, 0.6, 0.3, 0.4]), np.array([0, 1, 0, 1], bool))
    c = (np.array([0.1, 0.2]), np.array([0, 0], bool))  # no OOD: pooled only
    for s, y in (a, b, c):
        acc.add(s, y)
    r = acc.result()
    allS = np.concatenate([a[0], b[0], c[0]])
    allY = np.concatenate([a[1], b[1], c[1]])
    assert abs(r["auroc"] - 100 * roc_auc_score(allY, allS)) < 1e-9
    assert abs(r["aupr"] - 100 * average_precision_score(allY, allS)) < 1e-9
    per = [roc_auc_score(y, s) for s, y in (a, b)]
    assert abs(r["auroc_image"] - 100 * np.mean(per)) < 1e-9
    assert r["images_with_ood"] == 2


def test_confusion_miou():
    cm = ConfusionMatrix(3)
    gt = np.array([0, 0, 1, 1, 2, 255, 254])
    pr = np.array([0, 1, 1, 1, 0, 2, 2])
    cm.add(pr, gt)
    r = cm.result(["a", "b", "c"])
    # IoU a = 1/(2+2-1)=1/3, b = 2/(2+3-2)=2/3, c = 0/(1+0-0)=0 (void/OOD pixels excluded)
    assert abs(r["perClassIoU"]["a"] - 100 / 3) < 1e-9
    assert abs(r["perClassIoU"]["b"] - 200 / 3) < 1e-9
    assert r["perClassIoU"]["c"] == 0
    assert abs(r["miou"] - 100 / 3) < 1e-9
    assert abs(r["acc"] - 60.0) < 1e-9  # 3 of 5 valid pixels
