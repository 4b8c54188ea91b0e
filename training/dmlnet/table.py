"""Build the Table-1 style comparison from run folders' metrics.json.

  /usr/bin/python3 -m dmlnet.table runs/cmp-baseline runs/cmp-dml runs/cmp-circle
"""
from __future__ import annotations

import json
import os
import sys

ROWS = {"linear": [("msp", "baseline + MSP"), ("maxlogit", "baseline + MaxLogit"), ("margin", "baseline + margin")],
        "fixed-prototypes": [("eds", "DML + EDS (fixed sMax)"), ("eds_image", "DML + EDS (per-image)"),
                             ("mmsp", "DML + MMSP"), ("combined", "DML + combined (fixed sMax)"),
                             ("combined_image", "DML + combined (per-image)"), ("mindist", "DML + min distance"),
                             ("margin", "DML + margin")],
        "learned-centres": [("eds", "Circle centres + EDS"), ("mmsp", "Circle centres + MMSP"),
                            ("combined", "Circle centres + combined"), ("mindist", "Circle centres + min distance"),
                            ("margin", "Circle centres + margin")]}


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    print("| run | score | AUROC | AUPR | FPR95 | AUROC/img | AUPR/img | FPR95/img | mIoU | Acc | steps | min |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in argv:
        m = json.load(open(os.path.join(run, "metrics.json")))
        import torch
        ck = torch.load(os.path.join(run, "last.pt"), map_location="cpu")
        head = ck["config"]["model"]["head"]
        v = m["val"]
        for key, label in ROWS[head]:
            r = v["ood"].get(key)
            if not r:
                continue
            print(f"| {os.path.basename(run)} | {label} | {r['auroc']:.1f} | {r['aupr']:.1f} | {r['fpr95']:.1f} | "
                  f"{r['auroc_image']:.1f} | {r['aupr_image']:.1f} | {r['fpr95_image']:.1f} | {v['miou']:.1f} | "
                  f"{v['acc']:.1f} | {m['steps']} | {m['seconds'] / 60:.1f} |")


if __name__ == "__main__":
    main()
