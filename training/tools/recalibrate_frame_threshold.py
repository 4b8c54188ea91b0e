"""Recalibrate a shipped model's frame threshold on the region frame score, from its card and ONNX file.

  cd training && /usr/bin/python3 -m tools.recalibrate_frame_threshold MODELS_DIR NAME [DATA_ROOT]

Cards exported before unknown regions hold a frame threshold calibrated on the 90th percentile of pixel scores.
This rebuilds the network from the ONNX file (dmlnet.torch_from_onnx), scores every imageStride-th train image by
regions as the app does (dmlnet.calibration.region_frame_scores: the card's own sMax, gMax and pixel threshold, only
known-class pixels allowed to be unknown) and writes the card's frameThresholdPercentile of those scores as
scores.frameThreshold, with scores.frameScore = "regions". The old thresholds move to
training.calibration.pixelFrameThresholds; every other field stays as it is.
"""
import json
import os
import sys

import numpy as np
import torch

from dmlnet import torch_from_onnx
from dmlnet.calibration import CALIBRATION_VERSION, region_frame_scores
from dmlnet.config import open_split
from dmlnet.data import SegData


def recalibrate(models_dir, name, root=None):
    net, head, cfg, card = torch_from_onnx.load(models_dir, name)
    if root:
        cfg["dataset"]["root"] = root
    scores = card["scores"]
    default = scores["default"]
    cal = {"sMax": scores["eds"]["sMax"], "gMax": scores.get("margin", {}).get("gMax"),
           "thresholds": {default: scores["threshold"]}}
    c = cfg["calibration"]
    spec, lm = open_split(cfg, "train")
    data = SegData(spec, lm)
    stride = int(c.get("imageStride", 1))
    data.images, data.labels = data.images[::stride], data.labels[::stride]
    frame_scores = region_frame_scores(net, head, cfg, "cpu", data, [k.name for k in lm.known], cal)[default]
    percentile = c.get("frameThresholdPercentile", 95.0)
    threshold = float(np.percentile(frame_scores, percentile))
    record = card["training"]["calibration"]
    if record.get("frameScore") != "regions":
        record["pixelFrameThresholds"] = record.get("frameThresholds", {})
    record.update(version=CALIBRATION_VERSION, frameScore="regions", frameThresholds={default: threshold},
                  frameRule=f"{percentile}th percentile of the region frame score (dmlnet/regions.py) over every "
                            f"{stride}th train image, only known-class pixels unknown; recalibrated from the ONNX "
                            f"file by tools/recalibrate_frame_threshold.py",
                  regionFrameScores={"images": len(frame_scores), "zero": int(sum(s == 0 for s in frame_scores)),
                                     "median": float(np.median(frame_scores)), "max": float(max(frame_scores))})
    scores["frameThreshold"] = float(f"{threshold:.7g}")
    scores["frameScore"] = "regions"
    with open(os.path.join(models_dir, name + ".json"), "w") as f:
        json.dump(card, f, indent=1)
    return threshold, frame_scores


def main():
    models_dir, name = sys.argv[1:3]
    torch.set_num_threads(2)
    threshold, frame_scores = recalibrate(models_dir, name, sys.argv[3] if len(sys.argv) > 3 else None)
    print(json.dumps({"model": name, "frameThreshold": threshold, "images": len(frame_scores),
                      "zero": int(sum(s == 0 for s in frame_scores)), "median": float(np.median(frame_scores))}))


if __name__ == "__main__":
    main()
