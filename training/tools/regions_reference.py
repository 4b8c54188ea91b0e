"""Unknown regions and region frame scores by training/dmlnet/regions.py, for comparing with the app's.

  cd training && /usr/bin/python3 -m tools.regions_reference MANIFEST.json

MANIFEST: a JSON list of maps, each {"width", "height", "classes": [names in index order], "classMap": path of
width x height uint8 class indices (255 = unknown), "ood": path of width x height little-endian float32 pixel
scores}. Prints one JSON line: a list of {"regions": [...], "frameScore": ...}, one per map.
"""
import json
import sys

import numpy as np

from dmlnet import regions as R


def main():
    with open(sys.argv[1]) as f:
        maps = json.load(f)
    out = []
    for entry in maps:
        shape = (entry["height"], entry["width"])
        class_map = np.fromfile(entry["classMap"], np.uint8).reshape(shape)
        ood = np.fromfile(entry["ood"], "<f4").reshape(shape)
        drivable, sky = R.region_places(entry["classes"])
        regions = R.unknown_regions(class_map, ood, drivable, sky)
        out.append({"regions": regions, "frameScore": R.frame_score(regions)})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
