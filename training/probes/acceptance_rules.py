"""Probe (issue #7): can a better acceptance rule in the shipped embedding reach the few-shot target?

The shipped rule ("fit", src-main/teaching/prototypes.ts) picks the squared radius with the best IoU against
the shot masks over the shot frames. Shot frames are chosen for the largest area of the class, so the class
is far commoner there than in a drive, which pushes the radius up. This weights the shots' unmarked pixels
by w (w = 1 is the shipped rule) and reports, with the shipped NPM prototypes (mean of per-shot means):
  * the other train frames (not the shots), where w could be chosen without val, and val;
  * the ratio rule d_novel / d_nearest_known < rho, fitted the same way;
  * last, an oracle: the radius that is best on val itself (not a rule; it bounds any radius rule).
At half resolution, so figures differ a little from `dmlreview fewshot`.

  cd training && /usr/bin/python3 -m probes.acceptance_rules runs/camvid-open-5500/last.pt
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from dmlnet.checkpoint import load_checkpoint, restore
from dmlnet.config import open_split
from dmlnet.data import MEAN, STD, SegData, normalize
from dmlnet.metrics import ConfusionMatrix

PED, BIC, KNOWN = 9, 10, 9


def load(checkpoint):
    ck = load_checkpoint(checkpoint)
    net, head = restore(ck)
    splits = {name: SegData(*open_split(ck["config"], name, unknown=[])) for name in ("train", "val")}
    return net, head.prototypes().detach(), splits


@torch.no_grad()
def embed(net, image):
    x = F.interpolate(normalize(image, MEAN, STD)[None], size=(360, 480), mode="bilinear", align_corners=False)
    e = net(x)[0][:, ::2, ::2]
    return e.reshape(e.shape[0], -1).T


def sqd(a, b):
    return ((a[:, None] - b[None]) ** 2).sum(-1)


def class_iou(labels, pred):
    """IoU (%) of each of the 11 CamVid classes; void (255) pixels are not scored."""
    cm = ConfusionMatrix(11)
    cm.add(pred.numpy(), labels.numpy())
    return torch.tensor([float("nan") if x is None else x for x in cm.result()["perClassIoU"].values()])


def fit_threshold(key, candidates, marked, w=1.0):
    """The shipped "fit" rule (src-main/teaching/prototypes.ts, fitRadius) when w = 1: the threshold on `key`
    with the best IoU against the shots' masks, over the candidate pixels; w weights the unmarked ones."""
    key, hit = key[candidates], marked[candidates].double()
    order = torch.argsort(key)
    key, hit = key[order], torch.cumsum(hit[order], 0)
    taken = torch.arange(1, len(key) + 1, dtype=torch.float64)
    i = int(torch.argmax(hit / (marked.sum() + w * (taken - hit))))
    return float((key[i] + key[min(i + 1, len(key) - 1)]) / 2)


def distances(net, P, data, protos):
    """Per pixel: squared distance to the nearest known prototype, its class, to each taught prototype; label; frame."""
    rows = {"kmin": [], "kpred": [], "dn": [], "label": [], "frame": []}
    for i, (image, label) in enumerate(zip(data.images, data.labels)):
        e = embed(net, image)
        kmin, kpred = sqd(e, P).min(1)
        for key, value in (("kmin", kmin), ("kpred", kpred), ("dn", sqd(e, protos)),
                           ("label", label[::2, ::2].reshape(-1).long()), ("frame", torch.full_like(kpred, i))):
            rows[key].append(value)
    return {k: torch.cat(v) for k, v in rows.items()}


def fit(d, shot_frames, column, w, ratio):
    sel = torch.isin(d["frame"], torch.tensor(shot_frames))
    dn, kmin, marked = d["dn"][sel, column], d["kmin"][sel], d["label"][sel] == PED + column
    return fit_threshold(dn / kmin if ratio else dn, dn < kmin, marked, w)


def ious(d, thresholds, ratio, keep):
    pred, best = d["kpred"].clone(), d["kmin"].clone()
    for column, threshold in enumerate(thresholds):
        dn = d["dn"][:, column]
        take = ((dn / d["kmin"] if ratio else dn) < threshold) & (dn < best)
        pred[take], best[take] = KNOWN + column, dn[take]
    iou = class_iou(d["label"][keep], pred[keep])
    return [round(float(iou[PED + c]), 2) for c in range(len(thresholds))], round(float(iou[:KNOWN].mean()), 2)


def main(checkpoint):
    torch.set_num_threads(2)
    net, P, splits = load(checkpoint)
    train = splits["train"]
    for shots in (1, 5):
        frames = {c: np.argsort([(lab == c).sum().item() for lab in train.labels])[::-1][:shots].tolist()
                  for c in (PED, BIC)}
        protos = []
        for c in (PED, BIC):
            means = [embed(net, train.images[i])[train.labels[i][::2, ::2].reshape(-1) == c].mean(0) for i in frames[c]]
            protos.append(torch.stack(means).mean(0))
        protos = torch.stack(protos)
        d_train, d_val = distances(net, P, train, protos), distances(net, P, splits["val"], protos)
        others = ~torch.isin(d_train["frame"], torch.tensor(frames[PED] + frames[BIC]))
        everything = torch.ones_like(d_val["kmin"], dtype=torch.bool)
        for n in (1, 2):
            print(f"== {shots} shot(s), 9+{n}: before teaching, old mIoU train-others "
                  f"{ious(d_train, [], False, others)[1]}, val {ious(d_val, [], False, everything)[1]}")
            for ratio in (False, True):
                for w in (1, 2, 4, 8, 16, 32):
                    t = [fit(d_train, frames[PED + c], c, w, ratio) for c in range(n)]
                    print(f"{'ratio ' if ratio else 'radius'} w={w:2d} threshold {[round(x, 3) for x in t]}: "
                          f"novel IoU, old mIoU train-others {ious(d_train, t, ratio, others)}, "
                          f"val {ious(d_val, t, ratio, everything)}")
            if n == 1:
                grid = np.geomspace(0.1, 4, 40)
                best = max((ious(d_val, [r], False, everything)[0][0], r) for r in grid)
                print(f"oracle radius on val (not a rule): pedestrian IoU {best[0]} at squared radius {best[1]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
