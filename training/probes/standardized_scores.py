"""Probe: do class-standardised scores and boundary suppression (SML, Jung et al., ICCV 2021) help? (issue #19)

  cd training
  /usr/bin/python3 -m probes.standardized_scores camvid-open

Rebuilds a shipped model from models/NAME.onnx. Per predicted class c it fits the mean and standard deviation
of two statistics on the TRAIN split's known pixels: the nearest-prototype distance d_min and the margin g.
A standardised score is then z = (d_min - mu_c) / sigma_c (or -(g - mu_c) / sigma_c): a pixel is as unusual
as its distance is for pixels given that class. SML's boundary suppression then replaces scores on the
predicted classes' boundaries (widths 4, 3, 2, 1) by the mean of their non-boundary 3x3 neighbours, and
dilated smoothing (7x7 Gaussian, dilation 6) follows.
The statistics come from the even train frames. Scores are chosen on the held-out pixels (pedestrian,
bicyclist: ignored in training) of the odd train frames and reported on val (every frame, every pixel). A third
check needs no labels: on the shared highway clip (another camera, nothing unusual), the share of a frame each
score puts at or above the threshold that takes 95% of val's unknown pixels (FPR95's threshold).
"drive_std_margin" standardises with statistics of the frames being scored instead, every pixel by its
predicted class, no labels: what the app could fit on each drive it analyses.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dmlnet import scores as S
from dmlnet.config import REPO_ROOT, open_split
from dmlnet.data import IGNORE, OOD, SegData
from dmlnet.heads import sq_distances
from dmlnet.inference import forward_image
from dmlnet.metrics import OODAccumulator
from dmlnet.torch_from_onnx import load

MODELS = os.path.join(REPO_ROOT, "models")
FOOTAGE = os.path.join(REPO_ROOT, "..", "shared", "datasets", "footage", "udacity-highway.mp4")


def boundary_mask(pred, width):
    """Pixels within `width` of a change of predicted class."""
    p = pred[None, None].float()
    k = 2 * width + 1
    high = F.max_pool2d(p, k, 1, width)
    low = -F.max_pool2d(-p, k, 1, width)
    return (high != low)[0, 0]


def suppress_boundaries(score, pred, widths=(4, 3, 2, 1)):
    """SML's iterative boundary suppression: boundary pixels take the mean of their non-boundary neighbours."""
    x = score.clone()
    ones = torch.ones(1, 1, 3, 3)
    for width in widths:
        boundary = boundary_mask(pred, width)
        inner = (~boundary).float()[None, None]
        total = F.conv2d((x * inner[0, 0])[None, None], ones, padding=1)[0, 0]
        count = F.conv2d(inner, ones, padding=1)[0, 0]
        replace = boundary & (count > 0)
        x = torch.where(replace, total / count.clamp_min(1), x)
    return x


def gaussian_kernel(size=7, sigma=1.0):
    r = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    k = torch.outer(g, g)
    return (k / k.sum())[None, None]


def dilated_smooth(score, size=7, dilation=6):
    pad = dilation * (size // 2)
    x = F.pad(score[None, None], (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(x, gaussian_kernel(size), dilation=dilation)[0, 0]


def distances(net, head, cfg, img):
    size, mean, std = cfg["dataset"]["size"], cfg["normalize"]["mean"], cfg["normalize"]["std"]
    out = forward_image(net, img, size, "cpu", mean, std)
    return sq_distances(out, head.prototypes())[0]


class ClassStatistics:
    """Per predicted class: running mean and std of d_min and of g over the pixels added."""

    def __init__(self, classes):
        self.sums = np.zeros((classes, 2, 3))

    def add(self, d, mask):
        pred, dmin, g = d.argmin(0), d.min(0).values, S.margin_gap(d[None])[0]
        for c in range(len(self.sums)):
            m = mask & (pred == c)
            for k, v in enumerate((dmin[m].double(), g[m].double())):
                self.sums[c, k] += (len(v), float(v.sum()), float((v**2).sum()))

    def result(self):
        n = self.sums[..., 0].clip(min=1)
        mu = self.sums[..., 1] / n
        sigma = np.sqrt((self.sums[..., 2] / n - mu**2).clip(min=1e-12))
        return torch.tensor(mu, dtype=torch.float32), torch.tensor(sigma, dtype=torch.float32)


@torch.no_grad()
def class_statistics(net, head, cfg, classes):
    """Per predicted class: mean and std of d_min and of g over the even train frames' known pixels."""
    spec, lm = open_split(cfg, "train")
    data = SegData(spec, lm)
    stats = ClassStatistics(classes)
    for img, lab in zip(data.images[::2], data.labels[::2]):
        stats.add(distances(net, head, cfg, img), (lab != IGNORE) & (lab != OOD))
    return stats.result()


def drive_statistics(distance_maps, classes):
    """The same statistics over every pixel of the frames scored: no labels, as the app could fit them on a drive."""
    stats = ClassStatistics(classes)
    for d in distance_maps:
        stats.add(d, torch.ones(d.shape[1:], dtype=torch.bool))
    return stats.result()


def standardised_margin(g, pred, statistics):
    mu, sigma = statistics
    return -(g - mu[pred, 1]) / sigma[pred, 1]


def candidates(d, gmax, train, drive):
    """Every score of the probe, from squared distances d [K,H,W], statistics of the train frames and the drive."""
    pred, dmin, g = d.argmin(0), d.min(0).values, S.margin_gap(d[None])[0]
    mu, sigma = train
    base = {
        "margin": S.margin(d[None], gmax)[0],
        "mmsp": S.mmsp(d[None])[0],
        "mindist": dmin,
        "std_mindist": (dmin - mu[pred, 0]) / sigma[pred, 0],
        "std_margin": standardised_margin(g, pred, train),
    }
    out = dict(base)
    for name, score in base.items():
        out[name + "+smooth"] = dilated_smooth(score)
        out[name + "+bs"] = suppress_boundaries(score, pred)
        out[name + "+bs+smooth"] = dilated_smooth(out[name + "+bs"])
    out["drive_std_margin"] = standardised_margin(g, pred, drive)
    out["drive_std_margin+smooth"] = dilated_smooth(out["drive_std_margin"])
    return out


@torch.no_grad()
def split_metrics(net, head, cfg, gmax, train, split, frames):
    spec, lm = open_split(cfg, split)
    data = SegData(spec, lm)
    scored = [(distances(net, head, cfg, img), lab.numpy()) for img, lab in list(zip(data.images, data.labels))[frames]]
    drive = drive_statistics([d for d, _ in scored], len(train[0]))
    accs = {}
    for d, lab_np in scored:
        if not (lab_np == OOD).any():
            continue
        for k, v in candidates(d, gmax, train, drive).items():
            accs.setdefault(k, OODAccumulator()).add(v.numpy(), lab_np == OOD, lab_np != IGNORE)
    return accs


def recall95_threshold(acc):
    """The score at which 95% of the unknown pixels are taken (the threshold FPR95 is read at)."""
    scores, unknown = np.concatenate(acc.scores), np.concatenate(acc.labels)
    return float(np.quantile(scores[unknown], 0.05))


@torch.no_grad()
def footage_shares(net, head, cfg, gmax, train, thresholds):
    """Per score: the mean share of a footage frame at or above its threshold (every frame, native size)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", FOOTAGE, os.path.join(folder, "%04d.png")], check=True)
        frames = sorted(os.listdir(folder))
        maps = []
        for frame in frames:
            rgb = np.asarray(Image.open(os.path.join(folder, frame)).convert("RGB"))
            maps.append(distances(net, head, cfg, torch.from_numpy(rgb.copy()).permute(2, 0, 1)))
    drive = drive_statistics(maps, len(train[0]))
    shares = {k: 0.0 for k in thresholds}
    for d in maps:
        for k, v in candidates(d, gmax, train, drive).items():
            shares[k] += float((v >= thresholds[k]).float().mean()) / len(maps)
    return shares, len(maps)


def main(name):
    torch.set_num_threads(2)
    net, head, cfg, card = load(MODELS, name)
    gmax = card["scores"]["margin"]["gMax"]
    train = class_statistics(net, head, cfg, len(card["classes"]))
    mu, sigma = train
    print("d_min mean / std per class:", [f"{a:.2f}/{b:.2f}" for a, b in zip(mu[:, 0].tolist(), sigma[:, 0].tolist())])
    # the statistics come from the even train frames; the train split is scored on the odd ones
    for split, frames in (("train", slice(1, None, 2)), ("val", slice(None))):
        accs = split_metrics(net, head, cfg, gmax, train, split, frames)
        res = {k: a.result() for k, a in accs.items()}
        for k, r in res.items():
            print(f"{name} {split:5s} {k:24s} AUROC {r['auroc']:6.2f} AUPR {r['aupr']:6.2f} FPR95 {r['fpr95']:6.2f} "
                  f"sIoU {r.get('siou', float('nan')):5.1f} PPV {r.get('ppv', float('nan')):5.1f} "
                  f"F1 {r.get('mean_f1', float('nan')):5.1f}", flush=True)
        print(json.dumps({"model": name, "split": split, "ood": res}), flush=True)
    thresholds = {k: recall95_threshold(a) for k, a in accs.items()}
    shares, count = footage_shares(net, head, cfg, gmax, train, thresholds)
    for k, share in shares.items():
        print(f"{name} highway {k:24s} share of a frame at or above val's 95%-recall threshold "
              f"{100 * share:5.1f}% ({count} frames)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "camvid-open")
