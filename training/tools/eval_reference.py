"""Python evaluation (dmlnet.evaluation) of a shipped model on a CamVid-layout folder, for comparing with
`dmlreview eval`.

  cd training && /usr/bin/python3 -m tools.eval_reference MODELS_DIR NAME DATA_ROOT [SPLIT]

Prints one JSON line: dmlnet.evaluation.evaluate's result, with sMax and gMax taken from the card (as the engine does).
"""
import json
import sys

import torch

from dmlnet import torch_from_onnx
from dmlnet.evaluation import evaluate


def main():
    models_dir, name, root = sys.argv[1:4]
    split = sys.argv[4] if len(sys.argv) > 4 else "val"
    torch.set_num_threads(2)
    net, head, cfg, card = torch_from_onnx.load(models_dir, name)
    cfg["dataset"]["root"] = root
    scores = card["scores"]
    cal = {"sMax": scores["eds"]["sMax"], "gMax": scores.get("margin", {}).get("gMax")}
    res = evaluate(net, head, cfg, "cpu", split, cal=cal if card["output"]["kind"] == "embedding" else None,
                       log=lambda *_: None)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
