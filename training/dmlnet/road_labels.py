"""Labels for the road model: CamVid's 11 classes refined to Cityscapes' 19 by a Cityscapes teacher.

CamVid's classes are unions of Cityscapes ones ("car" holds cars, trucks, buses and trains; "tree" holds
vegetation and terrain; "sign" holds signs and traffic lights). A model that must not call a truck or a
traffic light an anomaly needs the finer classes, which only the Cityscapes models know. Rule, per pixel:
  * CamVid says class c and the teacher's class is one of c's Cityscapes classes: the teacher's class;
  * CamVid says c and the teacher disagrees: c's main Cityscapes class (the human label wins), or void
    where c has no main class (CamVid's "bicyclist" is a rider on a bicycle: which part, only the teacher
    could say);
  * CamVid says void: the teacher's class where it is confident (softmax >= 0.9), else void.
Writes a dataset in the CamVid layout (SPLIT/images links, SPLIT/labels PNGs, classes.json with the 19
Cityscapes classes), which `dmlnet.train` reads like CamVid itself:

  /usr/bin/python3 -m dmlnet.road_labels --out runs/road-labels

The teacher is both Cityscapes models of ../shared/pretrained, their softmax averaged: the DeepLab on
MobileNet-EdgeTPU at 481x361 and ESPNetv2 at CamVid's own 480x360. On every 5th val frame the class the
teacher picks lies within CamVid's label on 88.2% (DeepLab), 86.5% (ESPNetv2; 86.7% at twice the size) and
89.2% (both) of labelled pixels.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .config import DEFAULT_DATA, REPO_ROOT
from .data import CITYSCAPES_CLASSES, read_camvid
from .espnetv2 import load_espnetv2_cityscapes, preprocess
from .tflite_graph import DEEPLAB_CITYSCAPES, DEEPLAB_MEAN, DEEPLAB_STD, DeepLabCityscapes

PRETRAINED = os.path.join(REPO_ROOT, "..", "shared", "pretrained", "cityscapes")
TEACHER = os.path.join(PRETRAINED, "espnetv2_s_2.0_city_1024x512.pth")
CITYSCAPES = [name for name, _ in CITYSCAPES_CLASSES]
VOID = 255
# CamVid class -> (the Cityscapes classes it contains, its main one or None).
CAMVID_TO_CITYSCAPES = {
    "sky": (("sky",), "sky"),
    "building": (("building", "wall"), "building"),
    "pole": (("pole",), "pole"),
    "road": (("road",), "road"),
    "pavement": (("sidewalk",), "sidewalk"),
    "tree": (("vegetation", "terrain"), "vegetation"),
    "sign": (("traffic sign", "traffic light"), "traffic sign"),
    "fence": (("fence", "wall"), "fence"),
    "car": (("car", "truck", "bus", "train"), "car"),
    "pedestrian": (("person",), "person"),
    "bicyclist": (("rider", "bicycle", "motorcycle"), None),
}
CONFIDENT = 0.9


def merge_tables(camvid_classes):
    """Lookup tables over CamVid ids: allowed[c, k] (Cityscapes k is within CamVid c), main[c] (or VOID)."""
    n = max(c.id for c in camvid_classes) + 1
    allowed = np.zeros((n, len(CITYSCAPES)), bool)
    main = np.full(n, VOID, np.uint8)
    for c in camvid_classes:
        members, head = CAMVID_TO_CITYSCAPES[c.name]
        for m in members:
            allowed[c.id, CITYSCAPES.index(m)] = True
        if head is not None:
            main[c.id] = CITYSCAPES.index(head)
    return allowed, main


def merge(camvid_label, teacher_class, teacher_conf, allowed, main, camvid_void):
    """The rule of the module docstring, on whole maps (uint8 CamVid ids, teacher ids and confidences)."""
    out = np.full(camvid_label.shape, VOID, np.uint8)
    known = camvid_label != camvid_void
    lab = np.where(known, camvid_label, 0)
    agree = known & allowed[lab, teacher_class]
    out[agree] = teacher_class[agree]
    disagree = known & ~agree
    out[disagree] = main[lab[disagree]]
    confident_void = ~known & (teacher_conf >= CONFIDENT)
    out[confident_void] = teacher_class[confident_void]
    return out


class Teacher:
    """Both Cityscapes models, their class probabilities averaged at the image's own size."""

    def __init__(self, espnetv2_path, deeplab_path):
        self.espnetv2 = load_espnetv2_cityscapes(espnetv2_path)
        self.deeplab = DeepLabCityscapes(deeplab_path).eval()

    @torch.no_grad()
    def __call__(self, image_path):
        """Class and confidence per pixel."""
        img = Image.open(image_path).convert("RGB")
        w, h = img.size
        p_esp = self.espnetv2(preprocess(img, None))[:, : len(CITYSCAPES)].softmax(1)  # background dropped
        odd = img.resize((w + 1 - w % 2, h + 1 - h % 2), Image.BILINEAR)  # 16k+1 sizes: exact SAME padding
        x = torch.from_numpy(np.asarray(odd, np.float32).transpose(2, 0, 1) / 255.0)[None]
        x = (x - torch.tensor(DEEPLAB_MEAN).view(1, 3, 1, 1)) / torch.tensor(DEEPLAB_STD).view(1, 3, 1, 1)
        p_dl = F.interpolate(self.deeplab(x), size=(h, w), mode="bilinear", align_corners=True).softmax(1)
        conf, cls = ((p_esp + p_dl) / 2)[0].max(0)
        return cls.numpy().astype(np.uint8), conf.numpy()


def write_split(teacher, spec, out, allowed, main):
    img_dir, lab_dir = os.path.join(out, spec.split, "images"), os.path.join(out, spec.split, "labels")
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(lab_dir, exist_ok=True)
    agreed = total = 0
    for image_path, label_path in spec.samples:
        name = os.path.basename(image_path)
        link = os.path.join(img_dir, name)
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(image_path), link)
        camvid = np.asarray(Image.open(label_path))
        cls, conf = teacher(image_path)
        merged = merge(camvid, cls, conf, allowed, main, spec.ignore_index)
        known = camvid != spec.ignore_index
        agreed += int((known & allowed[np.where(known, camvid, 0), cls]).sum())
        total += int(known.sum())
        Image.fromarray(merged).save(os.path.join(lab_dir, os.path.splitext(name)[0] + ".png"))
    return agreed / max(total, 1)


def _rel(path):
    """Paths as the configs write them: relative to the repository root."""
    return os.path.relpath(os.path.abspath(path), REPO_ROOT)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA, help="CamVid folder (default ../shared/datasets/camvid)")
    p.add_argument("--espnetv2", default=TEACHER, help="ESPNetv2 Cityscapes state dict")
    p.add_argument("--deeplab", default=os.path.join(PRETRAINED, DEEPLAB_CITYSCAPES), help="DeepLab Cityscapes TFLite")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    teacher = Teacher(a.espnetv2, a.deeplab)
    meta = {"name": "CamVid refined to Cityscapes classes by the Cityscapes ESPNetv2 and DeepLab (dmlnet.road_labels)",
            "ignoreIndex": VOID,
            "classes": [{"id": i, "name": n, "color": list(c)} for i, (n, c) in enumerate(CITYSCAPES_CLASSES)],
            "source": _rel(a.data), "teacher": [_rel(a.espnetv2), _rel(a.deeplab)],
            "confident": CONFIDENT}
    os.makedirs(a.out, exist_ok=True)
    for split in ("train", "val"):
        spec = read_camvid(a.data, split)
        allowed, main_class = merge_tables(spec.classes)
        share = write_split(teacher, spec, a.out, allowed, main_class)
        meta[f"{split}TeacherAgreement"] = round(share, 4)
        print(f"{split}: {len(spec.samples)} frames; teacher within CamVid's class on {100 * share:.1f}% of "
              "labelled pixels")
    with open(os.path.join(a.out, "classes.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
