"""A stand-in for a road-anomaly set: an animal pasted onto the road of CamVid val frames.

Public road-anomaly sets (real photos of animals and objects on roads) are not on these machines. This tool
makes a small, seeded proxy from what is: the ImageNet reference cat (``../shared/pretrained/imagenet/cat.bmp``)
cut out as an ellipse, scaled, flipped and colour-jittered, pasted once onto the road (CamVid label 3) of
every ``--every``-th val frame, feet on the road. Labels are in the binary anomaly layout that
``dmlreview eval --format anomaly --ood-ids 1`` reads: 1 = pasted animal, 0 = everything else. The paste has
hard edges and no shadow, so it is easier than a real animal in a real scene: a model that misses it will miss
real ones, and one that finds it has not yet shown it finds real ones.

  cd training && /usr/bin/python3 -m tools.paste_anomalies --out runs/pasted-cat
  cd .. && npx dmlreview eval --model models/road.onnx --images training/runs/pasted-cat/images \\
      --labels training/runs/pasted-cat/labels --format anomaly --ood-ids 1 --json
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from PIL import Image, ImageEnhance

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))
ROAD = 3


def cat_cutout(path):
    """The cat's body and head as an RGBA image: an ellipse over the middle of the reference photo."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    box = img.crop((int(w * 0.12), int(h * 0.18), int(w * 0.9), int(h * 0.95)))
    bw, bh = box.size
    yy, xx = np.mgrid[0:bh, 0:bw]
    inside = ((xx - bw / 2) / (bw / 2)) ** 2 + ((yy - bh / 2) / (bh / 2)) ** 2 <= 1
    rgba = np.dstack([np.asarray(box), (inside * 255).astype(np.uint8)])
    return Image.fromarray(rgba, "RGBA")


def paste_on_road(frame, label, cutout, rng):
    """Pastes a jittered copy of the cutout with its bottom centre on a random road pixel of the lower half;
    returns the new frame and the binary anomaly mask, or None where the frame has too little road."""
    h, w = label.shape
    ys, xs = np.nonzero(label[h // 2:] == ROAD)
    if len(ys) < 500:
        return None
    i = rng.integers(len(ys))
    foot_y, foot_x = ys[i] + h // 2, xs[i]
    size = int(rng.uniform(40, 110) * (0.5 + foot_y / h))  # nearer the camera, larger
    piece = cutout.resize((size, int(size * cutout.height / cutout.width)), Image.BILINEAR)
    if rng.random() < 0.5:
        piece = piece.transpose(Image.FLIP_LEFT_RIGHT)
    rgb = ImageEnhance.Brightness(piece.convert("RGB")).enhance(rng.uniform(0.6, 1.1))
    piece = Image.merge("RGBA", (*rgb.split(), piece.getchannel("A")))
    left, top = int(foot_x - piece.width / 2), int(foot_y - piece.height)
    out = frame.copy()
    out.paste(piece, (left, top), piece)
    mask = Image.new("L", frame.size, 0)
    mask.paste(Image.new("L", piece.size, 1), (left, top), piece.getchannel("A"))
    return out, np.asarray(mask)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--camvid", default=os.path.join(SHARED, "datasets", "camvid"))
    p.add_argument("--cat", default=os.path.join(SHARED, "pretrained", "imagenet", "cat.bmp"))
    p.add_argument("--out", required=True)
    p.add_argument("--every", type=int, default=2, help="every n-th val frame in name order")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    cutout = cat_cutout(a.cat)
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "labels"), exist_ok=True)
    names = sorted(os.listdir(os.path.join(a.camvid, "val", "images")))[:: a.every]
    written = 0
    for name in names:
        stem = os.path.splitext(name)[0]
        frame = Image.open(os.path.join(a.camvid, "val", "images", name)).convert("RGB")
        label = np.asarray(Image.open(os.path.join(a.camvid, "val", "labels", stem + ".png")))
        pasted = paste_on_road(frame, label, cutout, rng)
        if pasted is None:
            continue
        image, mask = pasted
        image.save(os.path.join(a.out, "images", stem + ".png"))
        Image.fromarray(mask.astype(np.uint8)).save(os.path.join(a.out, "labels", stem + ".png"))
        written += 1
    print(f"{written} frames with a pasted cat in {a.out}")


if __name__ == "__main__":
    main()
