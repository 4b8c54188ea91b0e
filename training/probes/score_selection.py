"""Probe: which pixel score, chosen on the TRAIN split's held-out pixels (never on val)? (issue #3)

  cd training
  /usr/bin/python3 -m probes.score_selection runs/camvid-open/last.pt runs/cmp2957-camvid-open-baseline/last.pt

The held-out classes (pedestrian, bicyclist) also appear in the train frames, where training ignored their
pixels: an OOD set the score can be chosen on without looking at val. For each checkpoint it prints, on
train and on val, pooled AUROC / AUPR / FPR95 of the shipped scores and of candidates that join the
margin with what only a metric space has, the distance of the embedding from the prototypes' centroid:
  combined_margin  the paper's combined score with MMSP replaced by the margin (its large-temperature
                   limit): alpha * eds + (1 - alpha) * margin, alpha = sigmoid(20 (eds - 0.8))
  mean_margin      (eds + margin) / 2
Calibration (sMax, gMax) comes from the checkpoint (known train pixels only). Train is scored at every
2nd pixel in each direction (memory), val at every pixel.
"""
import json
import sys

import torch

from dmlnet import scores as S
from dmlnet.checkpoint import load_checkpoint, restore
from dmlnet.config import open_split
from dmlnet.data import IGNORE, OOD, SegData
from dmlnet.heads import sq_distances
from dmlnet.inference import forward_image
from dmlnet.metrics import OODAccumulator


def candidate_scores(out, head, cal):
    if head.type == "linear":
        return S.linear_scores(out, cal["gMax"])
    d = sq_distances(out, head.prototypes())
    sc = S.metric_scores(d, cal["sMax"], S.eds_floor(head.prototypes()), cal["gMax"])
    alpha = torch.sigmoid(S.BETA * (sc["eds"] - S.GAMMA))
    sc["combined_margin"] = alpha * sc["eds"] + (1 - alpha) * sc["margin"]
    sc["mean_margin"] = 0.5 * (sc["eds"] + sc["margin"])
    return sc


@torch.no_grad()
def split_metrics(net, head, cfg, cal, split, stride):
    spec, lm = open_split(cfg, split)
    data = SegData(spec, lm)
    size, mean, std = cfg["dataset"]["size"], cfg["normalize"]["mean"], cfg["normalize"]["std"]
    accs = {}
    for img, lab in zip(data.images, data.labels):
        out = forward_image(net, img, size, "cpu", mean, std)[..., ::stride, ::stride]
        lab_np = lab.numpy()[::stride, ::stride]
        valid = lab_np != IGNORE
        if not (lab_np == OOD).any():
            continue
        for k, v in candidate_scores(out, head, cal).items():
            accs.setdefault(k, OODAccumulator()).add(v[0].numpy()[valid], (lab_np == OOD)[valid])
    return {k: a.result() for k, a in accs.items()}


def main(paths):
    torch.set_num_threads(2)
    for path in paths:
        ck = load_checkpoint(path)
        cfg, cal = ck["config"], ck["calibration"]
        net, head = restore(ck)
        for split in ("train", "val"):
            # train at every 2nd pixel in each direction, to fit in memory; val in full, as the shipped eval
            res = split_metrics(net, head, cfg, cal, split, 2 if split == "train" else 1)
            for k, r in res.items():
                print(f"{path} {split:5s} {k:16s} AUROC {r['auroc']:6.2f} AUPR {r['aupr']:6.2f} "
                      f"FPR95 {r['fpr95']:6.2f}", flush=True)
            print(json.dumps({"checkpoint": path, "split": split, "ood": res}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
