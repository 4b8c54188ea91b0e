import numpy as np
import pytest

from dmlnet import regions as R

# The hand-made scene of test/unit/engine-regions.test.ts: s sky (0), b building (1), r road (3), p pavement (4).
CLASS_OF = {"s": 0, "b": 1, "r": 3, "p": 4, "#": R.UNKNOWN}
SCENE = ["##ssssssssssss", "ssssss##ssssss", "bbbbbbbbbbbbbb", "b##bbbbbbbbbbb", "bbbbbbbbbbbb##",
         "pppppppppppp##", "rrrrrrrrrrrrrr", "rrrr##rrrrrrrr", "rrrr##rrrrrrrr"]


def scene():
    cm = np.array([[CLASS_OF[c] for c in row] for row in SCENE], np.uint8)
    ood = np.full(cm.shape, 0.1, np.float32)
    ood[0, 0:2] = 0.9
    ood[1, 6:8] = 0.95
    ood[3, 1:3] = 0.8
    ood[4:6, 12:14] = 0.85
    ood[7, 4], ood[7, 5], ood[8, 4], ood[8, 5] = 0.8, 0.84, 0.82, 0.82
    return cm, ood


def test_regions_of_the_hand_made_scene():
    cm, ood = scene()
    regions = R.unknown_regions(cm, ood, [3], [0])
    got = [(r["pixels"], r["x"], r["y"], r["width"], r["height"], r["border"], r["drivable"], r["inSky"], r["place"])
           for r in regions]
    assert got == [(2, 0, 0, 2, 1, ["top", "left"], "away", True, "sky-or-top"),
                   (2, 6, 1, 2, 1, [], "away", True, "sky-or-top"),
                   (2, 1, 3, 2, 1, [], "away", False, "elsewhere"),
                   (4, 12, 4, 2, 2, ["right"], "beside", False, "road"),
                   (4, 4, 7, 2, 2, ["bottom"], "on", False, "road")]
    f = np.float32
    mean_a = f((f(0.8) + f(0.84) + f(0.82) + f(0.82)) / 4)
    assert [r["meanScore"] for r in regions] == [f(0.9), f(0.95), f(0.8), f(0.85), mean_a]
    assert [r["score"] for r in regions] == [f(0.5 * f(0.9)), f(0.5 * f(0.95)), f(0.75 * f(0.8)), f(0.85), mean_a]
    assert R.frame_score(regions) == f(0.85)


def test_minimum_size_scales_with_the_map():
    assert [R.min_region_pixels(480, 360), R.min_region_pixels(960, 720), R.min_region_pixels(48, 36)] == [500, 2000, 5]
    cm = np.full((36, 48), 3, np.uint8)
    cm[20, 10:14] = R.UNKNOWN
    cm[20:22, 30:33] = R.UNKNOWN
    regions = R.unknown_regions(cm, np.full(cm.shape, 0.9, np.float32), [3], [0])
    assert [(r["pixels"], r["score"]) for r in regions] == [(4, 0.0), (6, pytest.approx(np.float32(0.9)))]
    assert R.frame_score([]) == 0.0


def test_no_drivable_class_no_region_by_the_road():
    cm, ood = scene()
    assert all(r["drivable"] == "away" for r in R.unknown_regions(cm, ood, [], [0]))


def test_places_from_class_names():
    camvid = ["sky", "building", "pole", "road", "pavement", "tree", "sign", "fence", "car"]
    assert R.region_places(camvid) == ([3], [0])
    assert R.region_places(["road", "sidewalk", "building", "sky"]) == ([0], [3])
    assert R.is_drivable_name("Lane Marking - General") and not R.is_drivable_name("sidewalk")
