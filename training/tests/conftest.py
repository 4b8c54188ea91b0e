import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

torch.set_num_threads(2)

CAMVID_CLASSES = ["sky", "building", "pole", "road", "pavement", "tree", "sign", "fence", "car",
                  "pedestrian", "bicyclist"]


def _img(path, w, h, seed, mode="RGB"):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)


def _lab(path, w, h, values, seed):
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=np.uint8)[rng.integers(0, len(values), (h, w))]
    Image.fromarray(arr, mode="L").save(path)


def make_camvid(root, n_train=3, n_val=2, w=40, h=30):
    """Same layout as ../shared/datasets/camvid: SPLIT/images/*.jpg, SPLIT/labels/*.png, classes.json."""
    os.makedirs(root, exist_ok=True)
    meta = {"name": "CamVid fixture", "ignoreIndex": 11,
            "classes": [{"id": i, "name": n, "color": [i * 20, 0, 0]} for i, n in enumerate(CAMVID_CLASSES)]
            + [{"id": 11, "name": "void", "color": [0, 0, 0]}]}
    with open(os.path.join(root, "classes.json"), "w") as f:
        json.dump(meta, f)
    for split, n in (("train", n_train), ("val", n_val)):
        os.makedirs(os.path.join(root, split, "images"))
        os.makedirs(os.path.join(root, split, "labels"))
        for i in range(n):
            name = f"0001TP_{i:06d}"
            _img(os.path.join(root, split, "images", name + ".jpg"), w, h, i)
            _lab(os.path.join(root, split, "labels", name + ".png"), w, h, list(range(12)), 100 + i)
    return root


@pytest.fixture
def camvid(tmp_path):
    return make_camvid(str(tmp_path / "camvid"))


@pytest.fixture
def cityscapes(tmp_path):
    root = tmp_path / "cityscapes"
    for split, cities in (("train", ["aachen", "bochum"]), ("val", ["frankfurt"])):
        for c in cities:
            os.makedirs(root / "leftImg8bit" / split / c)
            os.makedirs(root / "gtFine" / split / c)
            base = f"{c}_000000_000019"
            _img(root / "leftImg8bit" / split / c / f"{base}_leftImg8bit.png", 32, 16, 1)
            _lab(root / "gtFine" / split / c / f"{base}_gtFine_labelTrainIds.png", 32, 16, [0, 5, 11, 18, 255], 2)
            # the other gtFine files exist in the real dataset and must be ignored
            _lab(root / "gtFine" / split / c / f"{base}_gtFine_labelIds.png", 32, 16, [7, 8], 3)
    return str(root)


@pytest.fixture
def streethazards(tmp_path):
    root = tmp_path / "streethazards"
    recs = {}
    for folder, sub, lst, n in (("train", "training/t1-3", "train.odgt", 2),
                                ("train", "validation/t4", "validation.odgt", 1),
                                ("test", "test/t5", "test.odgt", 2)):
        os.makedirs(root / folder / "images" / sub, exist_ok=True)
        os.makedirs(root / folder / "annotations" / sub, exist_ok=True)
        items = []
        for i in range(n):
            img = f"images/{sub}/{i}_{i:06d}.png"
            seg = f"annotations/{sub}/{i}_{i:06d}.png"
            _img(root / folder / img, 24, 12, i)
            _lab(root / folder / seg, 24, 12, [1, 2, 8, 13, 14], 5 + i)  # 14 = anomaly (class 13)
            items.append({"fpath_img": img, "fpath_segm": seg, "width": 24, "height": 12})
        recs[(folder, lst)] = items
    for (folder, lst), items in recs.items():
        with open(root / folder / lst, "w") as f:
            json.dump(items, f)  # the real lists are one JSON array
    return str(root)


TINY_MODEL = {"widths": [8, 8, 16, 16], "decoder": [16, 16, 8], "dropout": 0.0}
