import os

import numpy as np
import pytest
import torch
from PIL import Image

from dmlnet.data import (
    IGNORE,
    OOD,
    AugConfig,
    DataError,
    SegData,
    augment,
    batch_iterator,
    build_label_map,
    read_dataset,
)


def test_camvid_reader_and_open_set_relabel(camvid):
    spec = read_dataset("camvid", camvid, "train")
    assert len(spec.samples) == 3 and spec.ignore_index == 11
    assert [c.name for c in spec.classes][-1] == "bicyclist" and len(spec.classes) == 11
    lm = build_label_map(spec, ["pedestrian", "bicyclist"])
    assert [c.name for c in lm.known] == ["sky", "building", "pole", "road", "pavement", "tree", "sign",
                                          "fence", "car"]
    assert lm.lut[9] == OOD and lm.lut[10] == OOD and lm.lut[11] == IGNORE
    assert list(lm.lut[:9]) == list(range(9))
    # holding out a class in the middle remaps the remaining ids contiguously
    lm2 = build_label_map(spec, ["pole"])
    assert lm2.lut[2] == OOD and lm2.lut[3] == 2 and lm2.lut[10] == 9 and lm2.num_known == 10
    data = SegData(spec, lm)
    raw = np.asarray(Image.open(spec.samples[0][1]))
    lab = data.labels[0].numpy()
    assert np.all(lab[raw == 9] == OOD) and np.all(lab[raw == 11] == IGNORE) and np.all(lab[raw == 3] == 3)
    assert data.images[0].shape == (3, 30, 40) and data.images[0].dtype == torch.uint8


def test_cityscapes_reader(cityscapes):
    spec = read_dataset("cityscapes", cityscapes, "train")
    assert len(spec.samples) == 2 and len(spec.classes) == 19
    assert all(s[1].endswith("_gtFine_labelTrainIds.png") for s in spec.samples)
    lm = build_label_map(spec, ["person"])
    assert lm.lut[11] == OOD and lm.lut[12] == 11 and lm.lut[255] == IGNORE and lm.num_known == 18
    data = SegData(spec, lm)
    assert set(np.unique(data.labels[0].numpy())) <= {0, 5, 11 - 0, 17, OOD, IGNORE}


def test_streethazards_reader(streethazards):
    tr = read_dataset("streethazards", streethazards, "train")
    te = read_dataset("streethazards", streethazards, "test")
    va = read_dataset("streethazards", streethazards, "val")
    assert (len(tr.samples), len(va.samples), len(te.samples)) == (2, 1, 2)
    assert "/train/images/training/t1-3/" in tr.samples[0][0] and "/test/annotations/test/t5/" in te.samples[0][1]
    lm = build_label_map(te)
    assert lm.num_known == 13 and lm.lut[14] == OOD and lm.lut[1] == 0 and lm.lut[13] == 12 and lm.lut[0] == IGNORE
    data = SegData(te, lm)
    raw = np.asarray(Image.open(te.samples[0][1]))
    lab = data.labels[0].numpy()
    assert np.all(lab[raw == 14] == OOD) and np.all(lab[raw == 8] == 7)


def test_unknown_class_missing(camvid):
    spec = read_dataset("camvid", camvid, "train")
    with pytest.raises(DataError, match="unicorn.*no such class"):
        build_label_map(spec, ["unicorn"])


def test_image_without_label(camvid):
    os.remove(os.path.join(camvid, "train", "labels", "0001TP_000001.png"))
    with pytest.raises(DataError, match=r"0001TP_000001\.jpg: no label"):
        read_dataset("camvid", camvid, "train")


def test_size_mismatch(camvid):
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(os.path.join(camvid, "train", "labels", "0001TP_000002.png"))
    spec = read_dataset("camvid", camvid, "train")
    with pytest.raises(DataError, match=r"0001TP_000002\.jpg: size 40x30 differs"):
        SegData(spec, build_label_map(spec))


def test_unreadable_image(camvid):
    with open(os.path.join(camvid, "train", "images", "0001TP_000000.jpg"), "wb") as f:
        f.write(b"not a jpeg")
    spec = read_dataset("camvid", camvid, "train")
    with pytest.raises(DataError, match=r"0001TP_000000\.jpg: unreadable image"):
        SegData(spec, build_label_map(spec))


def test_empty_split(camvid):
    for n in os.listdir(os.path.join(camvid, "val", "images")):
        os.remove(os.path.join(camvid, "val", "images", n))
    with pytest.raises(DataError, match="val/images: empty split"):
        read_dataset("camvid", camvid, "val")


def test_augmentation_is_deterministic_and_shaped(camvid):
    spec = read_dataset("camvid", camvid, "train")
    data = SegData(spec, build_label_map(spec))
    cfg = AugConfig(crop=(24, 32), scale=(0.5, 2.0), base=(40, 30))
    a = next(batch_iterator(data, 4, cfg, seed=3))
    b = next(batch_iterator(data, 4, cfg, seed=3))
    assert a[1].shape == (4, 3, 24, 32) and a[2].shape == (4, 24, 32)
    assert torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])
    # labels only take original values or IGNORE (nearest resampling, ignore padding)
    assert set(torch.unique(a[2]).tolist()) <= set(range(11)) | {IGNORE}
    # a flip of the crop keeps image/label aligned: a constant-label image stays constant
    img = torch.full((3, 30, 40), 100, dtype=torch.uint8)
    lab = torch.full((30, 40), 4, dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    im, lb = augment(img, lab, AugConfig(crop=(20, 20), scale=(0.3, 0.4)), g)
    assert im.shape == (3, 20, 20) and ((lb == 4) | (lb == IGNORE)).all() and (lb == IGNORE).any()
