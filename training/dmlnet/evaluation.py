"""Evaluation of a model on a split: mIoU and accuracy of the known classes, OOD metrics of every score."""
from __future__ import annotations

import json
import os
import time

import torch

from .calibration import calibrate
from .checkpoint import save_checkpoint
from .config import open_split
from .data import IGNORE, OOD, SegData
from .inference import forward_image, pixel_scores
from .metrics import ConfusionMatrix, OODAccumulator
from .report import format_table


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
    save_checkpoint(state, ckpt_path)
    with open(os.path.join(os.path.dirname(ckpt_path), "metrics.json"), "w") as f:
        json.dump({"calibration": cal, "val": res, "steps": state["step"], "seconds": state["elapsed"]}, f, indent=1)
    return cal, res
