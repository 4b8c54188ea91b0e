import json
import os

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from dmlnet import export as E
from dmlnet import regions as R
from dmlnet import scores as S
from dmlnet import train as T
from dmlnet.calibration import CALIBRATION_VERSION, FRAME_SCORE_PERCENTILE, calibrate
from dmlnet.checkpoint import build
from dmlnet.config import load_config, open_split
from dmlnet.data import SegData, build_label_map, normalize, read_dataset
from dmlnet.heads import make_head, sq_distances
from dmlnet.inference import forward_image
from dmlnet.losses import ce_loss, circle_loss, dce_vl_loss
from dmlnet.model import SegNet


def _two_images(camvid):
    """Two tiny images whose labels are blocky maps of the fixture's classes (OOD blocks included) and
    whose pixels carry a noisy colour per class."""
    spec = read_dataset("camvid", camvid, "train")
    lm = build_label_map(spec, ["pedestrian", "bicyclist"])
    g = torch.Generator().manual_seed(0)
    raw = torch.randint(0, 12, (2, 1, 6, 8), generator=g).float()
    raw = torch.nn.functional.interpolate(raw, size=(24, 32), mode="nearest")[:, 0].long()
    colours = torch.randint(0, 255, (12, 3), generator=g).float()
    img = colours[raw].permute(0, 3, 1, 2) + 20 * torch.randn(2, 3, 24, 32, generator=g)
    x = torch.stack([normalize(i.clamp(0, 255)) for i in img])
    y = torch.from_numpy(lm.lut[raw.numpy()]).long()
    return x, y, lm.num_known


@pytest.mark.parametrize("head_kind", ["fixed-prototypes", "linear", "learned-centres"])
def test_overfit_two_images(camvid, head_kind):
    torch.manual_seed(0)
    x, y, k = _two_images(camvid)
    d = 8 if head_kind == "learned-centres" else k
    net = SegNet(out_dim=d, head=head_kind, scale=4.0, **TINY_MODEL)
    head = make_head(head_kind, k, d, scale=4.0)
    opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=1e-2)
    losses = []
    for _ in range(40):
        out = net(x)
        if head_kind == "fixed-prototypes":
            loss = dce_vl_loss(out, y, head.prototypes())[0]
        elif head_kind == "linear":
            loss = ce_loss(out, y)
        else:
            loss = circle_loss(head.cosines(out), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3]), losses


def _cfg_file(tmp_path, camvid, head="fixed-prototypes", unknown=("pedestrian", "bicyclist")):
    cfg = {"name": "tiny", "dataset": {"name": "camvid", "root": camvid, "unknown": list(unknown), "size": [40, 30]},
           "model": dict(TINY_MODEL, head=head, embedDim=6),
           "optim": {"batch": 2, "warmup": 2}, "aug": {"crop": [24, 24]},
           "train": {"steps": 3, "ckptEvery": 2, "logEvery": 1},
           "calibration": {"pixelStride": 1}}
    p = tmp_path / f"{head}.json"
    p.write_text(json.dumps(cfg))
    return str(p)


def test_train_resume_evaluate_export(tmp_path, camvid):
    out = str(tmp_path / "run")
    cfg = _cfg_file(tmp_path, camvid)
    st = T.main(["--config", cfg, "--out", out])
    assert st["step"] == 3 and os.path.isfile(os.path.join(out, "metrics.json"))
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert "eds" in m["val"]["ood"] and m["calibration"]["sMax"] > 0
    st = T.main(["--config", cfg, "--out", out, "--steps", "5", "--resume", "--no-eval"])
    assert st["step"] == 5
    # a checkpoint from another configuration is refused, naming the file
    with pytest.raises(SystemExit, match=r"last\.pt: checkpoint from another configuration"):
        T.main(["--config", cfg, "--out", out, "--unknown", "pedestrian", "--steps", "6", "--resume"])
    # evaluate CLI on the checkpoint
    from dmlnet import evaluate as EV
    r = EV.main([os.path.join(out, "last.pt")])
    assert r["images"] == 2 and set(r["ood"]) >= {"eds", "eds_image", "mmsp", "combined"}
    # the all-class model can start from the open-set one (classifier left fresh)
    out2 = str(tmp_path / "run-all")
    st2 = T.main(["--config", cfg, "--unknown", "", "--out", out2, "--steps", "2", "--no-eval",
                  "--init", os.path.join(out, "last.pt")])
    assert st2["step"] == 2 and len(st2["known"]) == 11
    card = E.main([os.path.join(out, "last.pt"), "--name", "tiny", "--out", str(tmp_path / "models"),
                   "--evaluate", "--default-score", "eds"])
    assert card["format"] == "dmlreview-model-card/1" and card["output"]["embeddingDim"] == 9
    assert len(card["head"]["prototypes"]) == 9 and card["unknownClasses"][0]["datasetId"] == 9
    assert card["training"]["onnxCheckMaxAbsDiff"] < 1e-4
    frame_thresholds = card["training"]["calibration"]["frameThresholds"]
    assert card["scores"]["frameThreshold"] == pytest.approx(frame_thresholds["eds"], rel=1e-6)
    assert card["scores"]["frameScore"] == "regions"
    ref = json.load(open(tmp_path / "models" / "tiny.reference.json"))
    assert ref["output"]["shape"] == [1, 9] + ref["input"]["shape"][2:]
    import hashlib
    assert hashlib.sha256(open(tmp_path / "models" / "tiny.onnx", "rb").read()).hexdigest() == card["sha256"]
    # a checkpoint calibrated by an older rule is calibrated and evaluated again at export
    ck = torch.load(os.path.join(out, "last.pt"))
    ck["calibration"] = {"sMax": 1.0, "thresholds": {"eds": 0.5}}
    ck["metrics"] = {"val": {"stale": True}}
    torch.save(ck, os.path.join(out, "old.pt"))
    card = E.main([os.path.join(out, "old.pt"), "--name", "old", "--out", str(tmp_path / "models"),
                   "--default-score", "eds"])
    assert card["training"]["calibration"]["version"] == CALIBRATION_VERSION
    assert "stale" not in card["metrics"]["val"] and card["scores"]["eds"]["sFloor"] > 0


def test_frame_threshold_is_a_percentile_of_frame_scores_without_unknown_pixels(tmp_path, camvid):
    cfg = load_config(_cfg_file(tmp_path, camvid))
    cfg["calibration"].update(imageStride=1, frameThresholdPercentile=100.0)
    torch.manual_seed(0)
    net, head = build(cfg, 9, "cpu", pretrained=False)
    net.eval()
    cal = calibrate(net, head, cfg, "cpu", log=lambda _: None)
    assert cal["version"] == CALIBRATION_VERSION == 5
    spec, lm = open_split(cfg, "train")
    data = SegData(spec, lm)
    drivable, sky = R.region_places([c.name for c in lm.known])
    assert drivable == [3] and sky == [0]
    pixel, region = [], []
    with torch.no_grad():
        for img, lab in zip(data.images, data.labels):
            d = sq_distances(forward_image(net, img, cfg["dataset"]["size"], "cpu"), head.prototypes())
            known = (lab < lm.num_known).numpy()
            mmsp = S.mmsp(d)[0].numpy()
            pixel.append(np.percentile(mmsp[known], FRAME_SCORE_PERCENTILE))
            # The frame without its unknown objects: only known-class pixels may be unknown.
            class_map = np.where((mmsp > cal["thresholds"]["mmsp"]) & known, R.UNKNOWN, d.argmin(1)[0].numpy())
            region.append(R.frame_score(R.unknown_regions(class_map, mmsp, drivable, sky)))
    assert len(pixel) == len(data) >= 2
    assert cal["pixelFrameThresholds"]["mmsp"] == pytest.approx(max(pixel), rel=1e-5)
    assert max(region) > 0, "some train frame of the fixture has a region large enough to score"
    assert cal["frameThresholds"]["mmsp"] == pytest.approx(max(region), rel=1e-5)


def test_prototype_scale_and_vl_weight_flags_reach_the_config(tmp_path, camvid):
    cfg = _cfg_file(tmp_path, camvid)
    a = T.parse(["--config", cfg, "--out", str(tmp_path / "r"), "--T", "6", "--vl-weight", "0.1"])
    c = T.config_from_args(a)
    assert (c["model"]["T"], c["loss"]["lambda"]) == (6.0, 0.1)
    head = build(c, 9, pretrained=False)[1]
    assert torch.allclose(head.prototypes(), 6.0 * torch.eye(9))


def test_unknown_class_error_before_training(tmp_path, camvid):
    cfg = _cfg_file(tmp_path, camvid)
    with pytest.raises(SystemExit, match="'zebra'.*no such class"):
        T.main(["--config", cfg, "--out", str(tmp_path / "r"), "--unknown", "zebra"])
    assert not os.path.exists(tmp_path / "r" / "last.pt")


@pytest.mark.parametrize("head_kind,dim", [("fixed-prototypes", 9), ("linear", 9), ("learned-centres", 6)])
def test_onnx_matches_pytorch(tmp_path, head_kind, dim):
    torch.manual_seed(1)
    net = SegNet(out_dim=dim, head=head_kind, scale=4.0, **TINY_MODEL)
    # non-trivial BatchNorm statistics
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(2, 3, 40, 56) * 2 + 0.3)
    net.eval()
    path = str(tmp_path / "m.onnx")
    name = "logits" if head_kind == "linear" else "embedding"
    E.export_onnx(net, path, name)
    diff = E.check_onnx(path, net, sizes=((48, 64), (37, 53), (360 // 4, 480 // 4)))
    assert diff < 1e-4
    import onnx
    m = onnx.load(path)
    assert [i.name for i in m.graph.input] == ["image"] and [o.name for o in m.graph.output] == [name]
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[2].dim_param and dims[3].dim_param
    assert m.graph.output[0].type.tensor_type.shape.dim[1].dim_value == dim
    assert m.opset_import[0].version >= 13
