"""Export a checkpoint to ONNX + model card + reference tensors (the contract with the TS engine).

  /usr/bin/python3 -m dmlnet.export runs/camvid-open/last.pt --name camvid-open --out ../models

Writes OUT/NAME.onnx (input `image` [1,3,H,W] normalised RGB, dynamic H/W; output `embedding` or
`logits` [1,D,H/s,W/s]: output stride s 1, or the network's `export_stride`, which the engine upsamples
bilinearly with corners aligned), OUT/NAME.json (card) and OUT/NAME.reference.json (a 48x64
pseudo-random input and the PyTorch eval-mode output). The export is checked against PyTorch with
dmlnet.onnx_run at the reference size and at a second odd size.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import io
import json
import os

import numpy as np
import torch

from .calibration import CALIBRATION_VERSION
from .checkpoint import load_checkpoint, restore
from .config import DEFAULT_DATA, REPO_ROOT, data_root, embed_dim, open_split, repo_path
from .data import DataError
from .evaluation import calibrate_and_evaluate
from .model import exported_network
from .onnx_run import run as onnx_run

OPSET = 13


def export_onnx(net, path, out_name, opset=OPSET):
    net.eval()
    x = torch.randn(1, 3, 64, 96)
    buf = io.BytesIO()
    kw = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False  # newer PyTorch: keep the TorchScript exporter (same graph as on 1.13)
    torch.onnx.export(net, x, buf, input_names=["image"], output_names=[out_name], opset_version=opset,
                      dynamic_axes={"image": {2: "height", 3: "width"}, out_name: {2: "height", 3: "width"}},
                      do_constant_folding=True, **kw)
    import onnx
    model = onnx.load_from_string(buf.getvalue())
    dims = model.graph.output[0].type.tensor_type.shape.dim
    dims[0].dim_value = 1
    with torch.no_grad():
        dims[1].dim_value = int(net(x).shape[1])
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[0].dim_value = 1
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return data


def check_output_stride(graph, stride, size):
    """The card promises an output of input / stride at its input size: the engine checks it when it loads."""
    w, h = size
    with torch.no_grad():
        got = tuple(graph(torch.zeros(1, 3, h, w)).shape[-2:])
    if got != (-(-h // stride), -(-w // stride)):
        raise SystemExit(f"output {got[1]}x{got[0]} at input {w}x{h} is not the input / {stride}")


def reference_input(h=48, w=64, seed=20260127):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, h, w, generator=g)


def check_onnx(path, net, sizes=((48, 64), (37, 53)), tol=1e-4):
    """Max abs difference between PyTorch and the ONNX graph (NumPy interpreter) at the given sizes."""
    worst = 0.0
    for h, w in sizes:
        x = reference_input(h, w, seed=h * 1000 + w)
        with torch.no_grad():
            ref = net(x).numpy()
        got = onnx_run(path, {"image": x.numpy()})[0]
        if got.shape != ref.shape:
            raise AssertionError(f"{path}: ONNX output shape {got.shape} != PyTorch {ref.shape}")
        worst = max(worst, float(np.abs(got - ref).max()))
    if worst > tol:
        raise AssertionError(f"{path}: ONNX differs from PyTorch by {worst:.2e} > {tol}")
    return worst


def _cmd(c):
    head, sep, rest = c.partition(" ")
    return "python3 -m dmlnet.train " + rest if head.endswith("dmlnet/train.py") else c


def _r(x, nd=7):
    return float(f"{float(x):.{nd}g}")


# The pretrained files of ../shared/pretrained (its README): what they were trained on, their licence, origin.
PRETRAINED_SOURCES = {
    "tf2_mobilenet_v2_1.0_224_ptq.tflite": ("ImageNet-1k classification", "Apache-2.0",
                                            "google-coral/test_data (commit 104342d)"),
    "mobilenet_v2_1.0_224_quant.tflite": ("ImageNet-1k classification", "Apache-2.0",
                                          "google-coral/test_data (commit 104342d)"),
    "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite": (
        "Cityscapes (19 classes); Cityscapes' terms describe its data as for non-commercial research", "Apache-2.0",
        "google-coral/test_data (commit 104342d)"),
    "espnetv2_s_2.0_city_1024x512.pth": ("Cityscapes fine (19 classes), encoder from ImageNet; Cityscapes' terms "
                                         "describe its data as for non-commercial research",
                                         "MIT (Sachin Mehta)", "sacmehta/EdgeNets (commit 2b232d3)"),
}


def pretrained_provenance(cfg):
    """The card's record of the weights a model started from: file, sha256, training data, licence."""
    rel = cfg["model"].get("pretrained")
    if not rel:
        return None
    path = repo_path(rel)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    trained_on, licence, source = PRETRAINED_SOURCES.get(os.path.basename(path), ("unknown", "unknown", "unknown"))
    return {"file": os.path.basename(path), "path": rel, "sha256": sha, "trainedOn": trained_on,
            "licence": licence, "source": source}


def training_data(cfg):
    """Where the training labels came from: the dataset folder's own description (classes.json), which for
    the road model's refined labels names the teachers and how often they agreed with CamVid."""
    root = data_root(cfg)
    meta_path = os.path.join(root, "classes.json")
    meta = {}
    if os.path.isfile(meta_path):
        with open(meta_path) as f:
            meta = {k: v for k, v in json.load(f).items() if k != "classes"}
    return {"root": cfg["dataset"].get("root") or "../shared/datasets/camvid", **meta}


def camvid_groups(known_names):
    """For a model of the Cityscapes classes: each CamVid class with its id and the model's classes it holds,
    so that `dmlreview eval --format camvid` can score the model on CamVid's own labels. Each model class
    counts for one CamVid class (wall for building, not also fence). None for other models."""
    from .data import read_camvid
    from .road_labels import CAMVID_TO_CITYSCAPES, CITYSCAPES
    if list(known_names) != CITYSCAPES:
        return None
    taken, groups = set(), []
    for cls in read_camvid(DEFAULT_DATA, "val").classes:
        members = [m for m in CAMVID_TO_CITYSCAPES[cls.name][0] if m not in taken]
        taken.update(members)
        groups.append({"name": cls.name, "datasetId": cls.id, "classes": members})
    return {"dataset": "CamVid", "ignoreIndex": 11, "groups": groups}


def build_card(ck, name, onnx_file, sha, kind, dim, default_score, description, stride=1, ignore_index=None):
    cfg = ck["config"]
    head_type = cfg["model"]["head"]
    cal = ck.get("calibration") or {}
    w, h = cfg["dataset"]["size"]
    head = {"type": head_type}
    if head_type != "linear":
        head["prototypes"] = [[_r(v) for v in row] for row in ck["_prototypes"]]
    thresholds = cal.get("thresholds", {})
    thr = thresholds.get(default_score)
    if thr is None or not (0.0 <= thr <= 1.0):
        thr = 0.5
    frame_thr = cal.get("frameThresholds", {}).get(default_score)
    if frame_thr is None or not (0.0 <= frame_thr <= 1.0):
        frame_thr = thr
    ds_name = {"camvid": "CamVid", "cityscapes": "Cityscapes", "streethazards": "StreetHazards"}.get(
        cfg["dataset"]["name"].lower(), cfg["dataset"]["name"])
    metrics = (ck.get("metrics") or {}).get("val")
    training = {
        "config": cfg, "steps": ck["step"], "seconds": round(ck["elapsed"], 1), "seed": cfg["train"]["seed"],
        "device": ck.get("device", "cpu"), "commandLine": _cmd(ck.get("command", "")), "torch": torch.__version__,
        "calibration": cal, "pretrained": pretrained_provenance(cfg),
        "openSetProtocol": ({"heldOut": [c["name"] for c in ck["unknownClasses"]]} if ck["unknownClasses"]
                            else None),
    }
    return {
        "format": "dmlreview-model-card/1",
        "name": name,
        "description": description,
        "onnx": onnx_file,
        "sha256": sha,
        "input": {"name": "image", "width": int(w), "height": int(h), "resize": "stretch",
                  "mean": [float(v) for v in cfg["normalize"]["mean"]],
                  "std": [float(v) for v in cfg["normalize"]["std"]]},
        "output": {"name": kind, "stride": stride, "kind": kind, "embeddingDim": int(dim),
                   **({"upsample": "bilinear-align-corners"} if stride > 1 else {})},
        "head": head,
        "classes": [{"index": i, "name": c["name"], "datasetId": int(c["id"]), "color": list(c["color"])}
                    for i, c in enumerate(ck["known"])],
        "unknownClasses": [{"name": c["name"], "datasetId": int(c["id"]), "color": list(c["color"])}
                           for c in ck["unknownClasses"]],
        "scores": {"default": default_score,
                   "eds": {"sMax": _r(cal.get("sMax", 0.0)), "sFloor": _r(cal.get("sFloor", 0.0))},
                   "combined": {"beta": 20, "gamma": 0.8},
                   **({"margin": {"gMax": _r(cal["gMax"])}} if cal.get("gMax") else {}), "threshold": _r(thr),
                   "frameThreshold": _r(frame_thr), "frameScore": "regions"},
        "dataset": {"name": ds_name, "ignoreIndex": ignore_index if ignore_index is not None else
                    (11 if ds_name == "CamVid" else 255)},
        "training": training,
        **({"evaluationGroups": groups} if (groups := camvid_groups(c["name"] for c in ck["known"])) else {}),
        "metrics": {"val": metrics} if metrics else {},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--name", required=True)
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "models"))
    p.add_argument("--default-score", choices=["eds", "mmsp", "combined", "margin", "msp", "maxlogit"])
    p.add_argument("--description", default="")
    p.add_argument("--opset", type=int, default=OPSET)
    p.add_argument("--evaluate", action="store_true", help="calibrate + evaluate if the checkpoint lacks metrics")
    p.add_argument("--skip-check", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    try:
        ck = load_checkpoint(a.checkpoint, "cpu")
    except DataError as e:
        raise SystemExit(f"error: {e}") from None
    cfg = ck["config"]
    k = len(ck["known"])
    net, head = restore(ck)
    calibrated = ck.get("calibration")
    stale = calibrated is not None and calibrated.get("version") != CALIBRATION_VERSION
    if (a.evaluate and not ck.get("metrics")) or stale:
        # A checkpoint calibrated by an older rule is calibrated and evaluated again, so card and metrics agree;
        # the checkpoint and its metrics.json are updated too, so dmlnet.table reports the same figures.
        calibrate_and_evaluate(ck, net, head, cfg, "cpu", a.checkpoint)
    kind = "logits" if head.type == "linear" else "embedding"
    dim = embed_dim(cfg, k)
    ck["_prototypes"] = None if head.type == "linear" else head.prototypes().detach().cpu().numpy().tolist()
    default = a.default_score or cfg.get("scores", {}).get("default") or ("msp" if head.type == "linear" else "eds")
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, a.name + ".onnx")
    graph, stride = exported_network(net)
    check_output_stride(graph, stride, cfg["dataset"]["size"])
    data = export_onnx(graph, onnx_path, kind, a.opset)
    size_mb = len(data) / 1e6
    if size_mb > 15:
        raise SystemExit(f"{onnx_path}: {size_mb:.1f} MB exceeds the 15 MB limit")
    sha = hashlib.sha256(data).hexdigest()
    diff = None
    if not a.skip_check:
        diff = check_onnx(onnx_path, graph)
        print(f"ONNX vs PyTorch max abs diff {diff:.2e}")
    # reference tensors (keep the file < 1 MB)
    h, w = 48, 64
    while 3 * h * w + dim * h * w > 70000:
        h, w = h - 8, w - 8
    x = reference_input(h, w)
    with torch.no_grad():
        y = graph(x)
    ref = {"input": {"shape": list(x.shape), "data": [_r(v, 8) for v in x.flatten().tolist()]},
           "output": {"name": kind, "shape": list(y.shape), "data": [_r(v, 8) for v in y.flatten().tolist()]},
           "note": "PyTorch eval-mode output for this input; values rounded to 8 significant digits"}
    with open(os.path.join(a.out, a.name + ".reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
    desc = a.description or cfg.get("description") or ""
    spec, _ = open_split(cfg, "train")
    card = build_card(ck, a.name, a.name + ".onnx", sha, kind, dim, default, desc, stride=stride,
                      ignore_index=spec.ignore_index)
    card["training"]["data"] = training_data(cfg)
    card["training"]["onnxCheckMaxAbsDiff"] = diff
    card["training"]["onnxOpset"] = a.opset
    with open(os.path.join(a.out, a.name + ".json"), "w") as f:
        json.dump(card, f, indent=1)
    print(f"wrote {onnx_path} ({size_mb:.2f} MB, sha256 {sha[:12]}...), {a.name}.json, {a.name}.reference.json")
    return card


if __name__ == "__main__":
    main()
