"""Evaluate a checkpoint on a split: mIoU/acc of known classes and OOD metrics for every score.

  /usr/bin/python3 -m dmlnet.evaluate runs/camvid-open/last.pt [--split val] [--json out.json]

sMax for the fixed-scale EDS comes from the checkpoint's calibration (recomputed on train if absent
or with --recalibrate). Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json

import torch

from .calibration import calibrate
from .checkpoint import load_checkpoint, resolve_device, restore
from .data import DataError
from .evaluation import calibrate_and_evaluate, evaluate
from .report import format_table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--split", default="val")
    p.add_argument("--data", help="dataset root (default: the one in the checkpoint's config)")
    p.add_argument("--unknown", help="override the held-out classes scored as OOD (comma-separated)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--recalibrate", action="store_true")
    p.add_argument("--json", help="also write the result to this file")
    p.add_argument("--save", action="store_true",
                   help="recalibrate, and store calibration and val metrics in the checkpoint and its metrics.json "
                        "(what training does at its end; dmlnet.table reads them)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = resolve_device(a.device)
    try:
        ck = load_checkpoint(a.checkpoint, device)
        cfg = ck["config"]
        if a.data:
            cfg["dataset"]["root"] = a.data
        unknown = None
        if a.unknown is not None:
            unknown = [u for u in a.unknown.split(",") if u.strip()]
            missing = [u for u in cfg["dataset"]["unknown"] if u not in unknown]
            if missing:
                raise DataError(f"{a.checkpoint}: trained with {missing} held out; they must stay unknown")
        net, head = restore(ck, device)
        if a.save:
            if a.split != "val" or a.unknown is not None or a.data:
                raise DataError("--save stores the checkpoint's own val evaluation: drop --split, --unknown and --data")
            cal, res = calibrate_and_evaluate(ck, net, head, cfg, device, a.checkpoint)
        else:
            cal = ck.get("calibration")
            if cal is None or a.recalibrate:
                cal = calibrate(net, head, cfg, device)
            res = evaluate(net, head, cfg, device, a.split, cal=cal, unknown=unknown)
    except DataError as e:
        raise SystemExit(f"error: {e}") from None
    print(format_table(res))
    out = {"checkpoint": a.checkpoint, "sMax": cal.get("sMax"), "gMax": cal.get("gMax"), **res}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
