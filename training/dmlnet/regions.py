"""Unknown regions and the frame score made from them: the app's rule (src-main/engine/unknown-regions.ts),
here for calibrating the frame threshold. One implementation each side; a test holds them equal
(test/integration/regions-python-agreement.test.ts).

Unknown pixels form 8-connected regions. A region smaller than 500 pixels at 480x360 (scaled with the map's
pixel count) scores 0. Otherwise its score is its mean pixel OOD score times a placement weight: 1 on or beside
the drivable area (half or more of its 4-neighbour boundary against a drivable class, or a drivable pixel within
its own height, chessboard distance), 0.5 in the sky (half or more of its boundary against sky) or touching the
top border, 0.75 elsewhere. The frame score is the highest region score, 0 without regions.
"""
from __future__ import annotations

import re

import numpy as np
from scipy import ndimage

UNKNOWN = 255
REFERENCE_PIXELS = 480 * 360
MIN_REGION_PIXELS_AT_REFERENCE = 500
MAJORITY = 0.5
PLACE_WEIGHTS = {"road": 1.0, "elsewhere": 0.75, "sky-or-top": 0.5}
_DRIVABLE = re.compile(r"^(road|drivable|lane marking|crosswalk|parking)\b")


def _normalise(name):
    return re.sub(r"[^a-z]+", " ", name.lower()).strip()


def is_drivable_name(name):
    return bool(_DRIVABLE.match(_normalise(name)))


def region_places(names):
    """Class names in index order -> (drivable indices, sky indices)."""
    drivable = [i for i, n in enumerate(names) if is_drivable_name(n)]
    sky = [i for i, n in enumerate(names) if _normalise(n) == "sky"]
    return drivable, sky


def min_region_pixels(width, height):
    # Math.round in the app: halves round up.
    return max(1, int(np.floor(MIN_REGION_PIXELS_AT_REFERENCE * width * height / REFERENCE_PIXELS + 0.5)))


def _boundary_counts(labels, class_map, members, n):
    """Per label: 4-neighbour contacts with known pixels, and how many of them are in `members` classes."""
    h, w = labels.shape
    total = np.zeros(n + 1, np.int64)
    hits = [np.zeros(n + 1, np.int64) for _ in members]
    for dy, dx in ((-1, 0), (0, 1), (1, 0), (0, -1)):
        src = labels[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
        nb = class_map[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
        touch = (src > 0) & (nb != UNKNOWN)
        total += np.bincount(src[touch], minlength=n + 1)
        for out, classes in zip(hits, members):
            inside = touch & np.isin(nb, classes)
            out += np.bincount(src[inside], minlength=n + 1)
    return total, hits


def _share(contacts, total):
    """The part of a region's boundary contacts that `contacts` are; 0 for a region touching no known pixel."""
    return contacts / total if total else 0.0


def _nearest_drivable(labels, class_map, drivable, n):
    mask = np.isin(class_map, drivable)
    if not mask.any():
        return np.full(n + 1, np.inf)
    dist = ndimage.distance_transform_cdt(~mask, metric="chessboard").astype(np.float64)
    return np.r_[np.inf, ndimage.minimum(dist, labels, np.arange(1, n + 1))]


def _borders(box, width, height):
    ys, xs = box
    out = []
    if ys.start == 0:
        out.append("top")
    if xs.stop == width:
        out.append("right")
    if ys.stop == height:
        out.append("bottom")
    if xs.start == 0:
        out.append("left")
    return out


def _place(border, drivable, in_sky):
    if in_sky or "top" in border:
        return "sky-or-top"
    return "elsewhere" if drivable == "away" else "road"


def unknown_regions(class_map, ood, drivable, sky):
    """class_map [H,W] class indices with 255 = unknown, ood [H,W] pixel scores -> regions in raster order of
    their first pixel, as dicts with the app's UnknownRegion fields."""
    class_map = np.asarray(class_map, np.uint8)
    ood = np.asarray(ood, np.float32)
    height, width = class_map.shape
    labels, n = ndimage.label(class_map == UNKNOWN, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    pixels = np.bincount(labels.ravel(), minlength=n + 1)
    sums = np.bincount(labels.ravel(), weights=ood.ravel().astype(np.float64), minlength=n + 1)
    total, (on_road, on_sky) = _boundary_counts(labels, class_map, [drivable, sky], n)
    nearest = _nearest_drivable(labels, class_map, drivable, n)
    min_pixels = min_region_pixels(width, height)
    # Numbered, as in the app, by each region's first pixel in raster order.
    first = ndimage.minimum(np.arange(labels.size).reshape(labels.shape), labels, np.arange(1, n + 1))
    boxes = ndimage.find_objects(labels)
    regions = []
    for i in (np.argsort(first, kind="stable") + 1).tolist():
        box = boxes[i - 1]
        rows = box[0].stop - box[0].start
        drive = "on" if _share(on_road[i], total[i]) >= MAJORITY else ("beside" if nearest[i] <= rows else "away")
        border = _borders(box, width, height)
        in_sky = bool(_share(on_sky[i], total[i]) >= MAJORITY)
        place = _place(border, drive, in_sky)
        mean = float(np.float32(sums[i] / pixels[i]))
        score = float(np.float32(PLACE_WEIGHTS[place] * mean)) if pixels[i] >= min_pixels else 0.0
        regions.append({"pixels": int(pixels[i]), "x": box[1].start, "y": box[0].start,
                        "width": box[1].stop - box[1].start, "height": rows, "meanScore": mean, "border": border,
                        "drivable": drive, "inSky": in_sky, "place": place, "score": score})
    return regions


def frame_score(regions):
    """The highest region score, 0 without regions."""
    return max((r["score"] for r in regions), default=0.0)
