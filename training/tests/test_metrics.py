import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from dmlnet.metrics import (
    SIOU_THRESHOLDS,
    ConfusionMatrix,
    OODAccumulator,
    best_f1,
    component_metrics,
    ood_metrics,
    segment_components,
)


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


# The hand-made scene of test/unit/eval-components.test.ts (60 x 40): G1 200 px and G2 100 px kept, G3 90 px void;
# P1 600 px over G1, G2 and the gap, P4 600 px over G3, P3 500 px on nothing, P2 150 px dropped.
def _scene():
    truth = np.zeros((40, 60), np.uint8)
    truth[0:10, 0:20] = 1
    truth[0:10, 30:40] = 1
    truth[0:10, 50:59] = 1
    pred = np.zeros((40, 60), bool)
    pred[0:15, 0:40] = True
    pred[0:40, 45:60] = True
    pred[20:40, 0:25] = True
    pred[25:40, 30:40] = True
    return pred, truth


def test_components_adjusted_siou_and_ppv():
    pred, truth = _scene()
    siou, ppv = segment_components(pred, truth)
    assert siou == [200 / 500, 100 / 400]
    assert ppv == [0.5, 0.0, 0.0]


def test_components_mean_f1_with_the_papers_inequalities():
    m = component_metrics([segment_components(*_scene())])
    assert len(SIOU_THRESHOLDS) == 11
    assert abs(m["mean_f1"] - 100 * 3 * 0.4 / 11) < 1e-9
    assert abs(m["siou"] - 32.5) < 1e-9 and abs(m["ppv"] - 100 / 6) < 1e-9
    assert component_metrics([([], [])])["mean_f1"] is None
    assert component_metrics([([], [0.0])])["mean_f1"] == 0.0


def test_components_void_splits_a_prediction():
    truth = np.zeros((40, 60), np.uint8)
    pred = np.zeros((40, 60), bool)
    pred[0:15, 0:41] = True
    assert len(segment_components(pred, truth)[1]) == 1
    truth[:, 20] = 255
    assert segment_components(pred, truth)[1] == []


def test_components_refuse_maps_of_different_sizes():
    with pytest.raises(ValueError, match=r"prediction \(60, 40\) and ground truth \(30, 20\) differ in size"):
        segment_components(np.zeros((40, 60), bool), np.zeros((20, 30), np.uint8))


def test_best_pixel_f1_and_components_through_the_accumulator():
    s = np.array([0.9, 0.8, 0.8, 0.1], np.float32)
    y = np.array([1, 1, 0, 0], bool)
    f1, thr = best_f1(s, y)
    assert abs(f1 - 80.0) < 1e-9 and thr == pytest.approx(0.8) and np.float32(thr) == np.float32(0.8)
    pred, truth = _scene()
    acc = OODAccumulator()
    scores = np.where(pred, 0.9, 0.1).astype(np.float32)
    scores[truth == 1] = np.maximum(scores[truth == 1], 0.5)
    acc.add(scores, truth == 1, np.ones(truth.shape, bool))
    r = acc.result()
    assert r["pixel_f1_threshold"] == pytest.approx(0.9)
    assert abs(r["mean_f1"] - 100 * 3 * 0.4 / 11) < 1e-9
