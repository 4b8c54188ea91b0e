"""Dataset readers (CamVid, Cityscapes, StreetHazards), open-set relabelling and augmentation.

Label convention after relabelling (``LabelMap``):
  0..K-1   known classes (contiguous, in dataset-id order)
  OOD=254  pixels of held-out (unknown) classes / anomalies - ignored in training, positives in evaluation
  IGNORE=255 void / unlabelled
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IGNORE = 255
OOD = 254

# Default normalisation (ImageNet statistics); the model card records what was used.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class DataError(ValueError):
    """Bad dataset input: the message names the offending file."""


@dataclass
class ClassInfo:
    id: int
    name: str
    color: list


@dataclass
class DatasetSpec:
    name: str
    root: str
    split: str
    classes: list  # list[ClassInfo] of trainable classes (dataset ids)
    samples: list  # list[(image_path, label_path)]
    ignore_ids: list = field(default_factory=list)  # raw ids that are void
    ood_ids: list = field(default_factory=list)  # raw ids that are always OOD (StreetHazards anomaly)
    label_offset: int = 0  # raw label value = dataset id + offset (StreetHazards files are 1-based)
    ignore_index: int = 255  # the dataset's own ignore id (card: dataset.ignoreIndex)


# ----------------------------------------------------------------------------------------- readers

def _check_nonempty(samples, where):
    if not samples:
        raise DataError(f"{where}: empty split (no images found)")


def read_camvid(root, split):
    """CamVid in the ../shared layout: SPLIT/images/NAME.jpg, SPLIT/labels/NAME.png, classes.json."""
    cj = os.path.join(root, "classes.json")
    if not os.path.isfile(cj):
        raise DataError(f"{cj}: missing (is --data a CamVid folder?)")
    with open(cj) as f:
        meta = json.load(f)
    ignore = int(meta.get("ignoreIndex", 11))
    classes = [ClassInfo(int(c["id"]), c["name"], list(c["color"])) for c in meta["classes"] if int(c["id"]) != ignore]
    img_dir = os.path.join(root, split, "images")
    lab_dir = os.path.join(root, split, "labels")
    if not os.path.isdir(img_dir):
        raise DataError(f"{img_dir}: missing split folder")
    samples = []
    for name in sorted(os.listdir(img_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        lab = os.path.join(lab_dir, stem + ".png")
        if not os.path.isfile(lab):
            raise DataError(f"{os.path.join(img_dir, name)}: no label (expected {lab})")
        samples.append((os.path.join(img_dir, name), lab))
    _check_nonempty(samples, img_dir)
    return DatasetSpec("CamVid", root, split, classes, samples, ignore_ids=[ignore], ignore_index=ignore)


CITYSCAPES_CLASSES = [
    ("road", (128, 64, 128)), ("sidewalk", (244, 35, 232)), ("building", (70, 70, 70)), ("wall", (102, 102, 156)),
    ("fence", (190, 153, 153)), ("pole", (153, 153, 153)), ("traffic light", (250, 170, 30)),
    ("traffic sign", (220, 220, 0)), ("vegetation", (107, 142, 35)), ("terrain", (152, 251, 152)),
    ("sky", (70, 130, 180)), ("person", (220, 20, 60)), ("rider", (255, 0, 0)), ("car", (0, 0, 142)),
    ("truck", (0, 0, 70)), ("bus", (0, 60, 100)), ("train", (0, 80, 100)), ("motorcycle", (0, 0, 230)),
    ("bicycle", (119, 11, 32)),
]


def read_cityscapes(root, split):
    """Cityscapes: leftImg8bit/SPLIT/CITY/X_leftImg8bit.png + gtFine/SPLIT/CITY/X_gtFine_labelTrainIds.png."""
    img_root = os.path.join(root, "leftImg8bit", split)
    lab_root = os.path.join(root, "gtFine", split)
    if not os.path.isdir(img_root):
        raise DataError(f"{img_root}: missing split folder")
    samples = []
    for city in sorted(os.listdir(img_root)):
        cdir = os.path.join(img_root, city)
        if not os.path.isdir(cdir):
            continue
        for name in sorted(os.listdir(cdir)):
            if not name.endswith("_leftImg8bit.png"):
                continue
            base = name[: -len("_leftImg8bit.png")]
            lab = os.path.join(lab_root, city, base + "_gtFine_labelTrainIds.png")
            if not os.path.isfile(lab):
                raise DataError(f"{os.path.join(cdir, name)}: no label (expected {lab}; "
                                "create *_labelTrainIds.png with cityscapesscripts)")
            samples.append((os.path.join(cdir, name), lab))
    _check_nonempty(samples, img_root)
    classes = [ClassInfo(i, n, list(c)) for i, (n, c) in enumerate(CITYSCAPES_CLASSES)]
    return DatasetSpec("Cityscapes", root, split, classes, samples, ignore_ids=[255], ignore_index=255)


STREETHAZARDS_CLASSES = [
    ("unlabeled", (0, 0, 0)), ("building", (70, 70, 70)), ("fence", (190, 153, 153)), ("other", (250, 170, 160)),
    ("pedestrian", (220, 20, 60)), ("pole", (153, 153, 153)), ("road line", (157, 234, 50)),
    ("road", (128, 64, 128)), ("sidewalk", (244, 35, 232)), ("vegetation", (107, 142, 35)),
    ("car", (0, 0, 142)), ("wall", (102, 102, 156)), ("traffic sign", (220, 220, 0)),
]
STREETHAZARDS_ANOMALY = 13  # after subtracting 1 from the annotation value, as in the public code


def _read_odgt(path):
    with open(path) as f:
        text = f.read().strip()
    if not text:
        return []
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_streethazards(root, split):
    """StreetHazards: train/{train,validation}.odgt and test/test.odgt; paths in .odgt are relative to
    train/ or test/. Annotation value v means class v-1 (13 classes, 0..12); v-1 == 13 is the anomaly."""
    folder, odgt = {"train": ("train", "train.odgt"), "val": ("train", "validation.odgt"),
                    "validation": ("train", "validation.odgt"), "test": ("test", "test.odgt")}.get(split, (None, None))
    if folder is None:
        raise DataError(f"StreetHazards split {split!r}: use train, val or test")
    lst = os.path.join(root, folder, odgt)
    if not os.path.isfile(lst):
        raise DataError(f"{lst}: missing list file")
    samples = []
    for rec in _read_odgt(lst):
        img = os.path.join(root, folder, rec["fpath_img"])
        lab = os.path.join(root, folder, rec["fpath_segm"])
        if not os.path.isfile(img):
            raise DataError(f"{img}: listed in {lst} but missing")
        if not os.path.isfile(lab):
            raise DataError(f"{img}: no label (expected {lab})")
        samples.append((img, lab))
    _check_nonempty(samples, lst)
    classes = [ClassInfo(i, n, list(c)) for i, (n, c) in enumerate(STREETHAZARDS_CLASSES)]
    return DatasetSpec("StreetHazards", root, split, classes, samples, ignore_ids=[-1],
                       ood_ids=[STREETHAZARDS_ANOMALY], label_offset=1, ignore_index=-1)


READERS = {"camvid": read_camvid, "cityscapes": read_cityscapes, "streethazards": read_streethazards}


def read_dataset(name, root, split):
    key = name.lower()
    if key not in READERS:
        raise DataError(f"unknown dataset {name!r} (camvid, cityscapes, streethazards)")
    if not os.path.isdir(root):
        raise DataError(f"{root}: dataset folder not found")
    return READERS[key](root, split)


# ------------------------------------------------------------------------------- open-set relabel

@dataclass
class LabelMap:
    known: list  # list[ClassInfo], index = contiguous training id
    unknown: list  # list[ClassInfo]
    lut: np.ndarray  # 256 entries: raw file value -> 0..K-1 / OOD / IGNORE

    @property
    def num_known(self):
        return len(self.known)


def build_label_map(spec: DatasetSpec, unknown_names=()) -> LabelMap:
    names = {c.name: c for c in spec.classes}
    unknown_names = [u.strip() for u in unknown_names if u and u.strip()]
    for u in unknown_names:
        if u not in names:
            raise DataError(f"--unknown {u!r}: {spec.name} at {spec.root} has no such class "
                            f"(classes: {', '.join(names)})")
    unknown = [names[u] for u in unknown_names]
    unknown_ids = {c.id for c in unknown}
    known = [c for c in spec.classes if c.id not in unknown_ids]
    lut = np.full(256, IGNORE, dtype=np.uint8)
    for i, c in enumerate(known):
        v = c.id + spec.label_offset
        if 0 <= v < 256:
            lut[v] = i
    for c in unknown:
        lut[c.id + spec.label_offset] = OOD
    for o in spec.ood_ids:
        lut[o + spec.label_offset] = OOD
    return LabelMap(known, unknown, lut)


# ---------------------------------------------------------------------------------- image loading

def load_pair(img_path, lab_path, lut):
    try:
        with Image.open(img_path) as im:
            img = np.array(im.convert("RGB"), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001 - report any decoder failure with the file name
        raise DataError(f"{img_path}: unreadable image ({e})") from None
    try:
        with Image.open(lab_path) as lb:
            if lb.mode not in ("L", "P", "I", "I;16"):
                lb = lb.convert("L")
            lab = np.asarray(lb)
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{lab_path}: unreadable label ({e})") from None
    if lab.ndim != 2:
        raise DataError(f"{lab_path}: label must be single-channel, got shape {lab.shape}")
    if lab.shape != img.shape[:2]:
        raise DataError(f"{img_path}: size {img.shape[1]}x{img.shape[0]} differs from its label {lab_path} "
                        f"({lab.shape[1]}x{lab.shape[0]})")
    lab = lut[np.clip(lab.astype(np.int64), 0, 255)]
    return img, lab


class SegData:
    """All images of a split held in memory as uint8 tensors (small datasets such as CamVid).

    Every file is opened and checked when the object is built, so bad input fails before training."""

    def __init__(self, spec: DatasetSpec, labelmap: LabelMap, size=None):
        self.spec, self.labelmap = spec, labelmap
        self.images, self.labels, self.names = [], [], []
        for ip, lp in spec.samples:
            img, lab = load_pair(ip, lp, labelmap.lut)
            img = torch.from_numpy(img).permute(2, 0, 1).contiguous()
            lab = torch.from_numpy(lab.copy())
            if size is not None and tuple(img.shape[-2:]) != (size[1], size[0]):
                img, lab = resize_pair(img, lab, size[1], size[0])
            self.images.append(img)
            self.labels.append(lab)
            self.names.append(os.path.basename(ip))

    def __len__(self):
        return len(self.images)


def resize_pair(img_u8, lab, h, w):
    img = F.interpolate(img_u8[None].float(), size=(h, w), mode="bilinear", align_corners=False)[0]
    img = img.round().clamp(0, 255).to(torch.uint8)
    lab = F.interpolate(lab[None, None].float(), size=(h, w), mode="nearest")[0, 0].to(torch.uint8)
    return img, lab


def normalize(img_u8_or_float, mean=MEAN, std=STD):
    x = img_u8_or_float.float() / 255.0
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - m) / s


# ----------------------------------------------------------------------------------- augmentation

@dataclass
class AugConfig:
    crop: tuple = (256, 256)  # (h, w)
    scale: tuple = (0.75, 1.5)  # random scale relative to the base size
    base: tuple = None  # (w, h) base size the scale refers to (None: the stored image size)
    flip: bool = True
    jitter: float = 0.25  # brightness / contrast / saturation strength


def _rand(gen, lo, hi):
    return lo + (hi - lo) * torch.rand((), generator=gen).item()


def augment(img_u8, lab, cfg: AugConfig, gen: torch.Generator):
    """Random scale, crop (padding with ignore), flip, photometric jitter. Returns float image 0..255."""
    _, h, w = img_u8.shape
    if cfg.base is not None:
        bw, bh = cfg.base
    else:
        bw, bh = w, h
    s = _rand(gen, *cfg.scale)
    nh, nw = max(8, int(round(bh * s))), max(8, int(round(bw * s)))
    img = F.interpolate(img_u8[None].float(), size=(nh, nw), mode="bilinear", align_corners=False)[0]
    lab = F.interpolate(lab[None, None].float(), size=(nh, nw), mode="nearest")[0, 0].long()
    ch, cw = cfg.crop
    ph, pw = max(0, ch - nh), max(0, cw - nw)
    if ph or pw:
        img = F.pad(img, (0, pw, 0, ph), value=0.0)
        lab = F.pad(lab, (0, pw, 0, ph), value=IGNORE)
        nh, nw = img.shape[-2:]
    y0 = int(torch.randint(0, nh - ch + 1, (1,), generator=gen))
    x0 = int(torch.randint(0, nw - cw + 1, (1,), generator=gen))
    img = img[:, y0:y0 + ch, x0:x0 + cw]
    lab = lab[y0:y0 + ch, x0:x0 + cw]
    if cfg.flip and torch.rand((), generator=gen).item() < 0.5:
        img, lab = img.flip(-1), lab.flip(-1)
    if cfg.jitter > 0:
        j = cfg.jitter
        b = _rand(gen, 1 - j, 1 + j)
        c = _rand(gen, 1 - j, 1 + j)
        sat = _rand(gen, 1 - j, 1 + j)
        img = img * b
        mean = img.mean()
        img = (img - mean) * c + mean
        gray = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None]
        img = (img - gray) * sat + gray
        img = img.clamp(0, 255)
    return img, lab


def batch_iterator(data: SegData, batch, cfg: AugConfig, seed, start_step=0, mean=MEAN, std=STD):
    """Deterministic infinite stream of augmented batches; step i depends only on (seed, i)."""
    step = start_step
    n = len(data)
    while True:
        gen = torch.Generator().manual_seed(seed * 1000003 + step)
        idx = torch.randint(0, n, (batch,), generator=gen).tolist()
        imgs, labs = [], []
        for i in idx:
            im, lb = augment(data.images[i], data.labels[i], cfg, gen)
            imgs.append(normalize(im, mean, std))
            labs.append(lb)
        yield step, torch.stack(imgs), torch.stack(labs)
        step += 1
