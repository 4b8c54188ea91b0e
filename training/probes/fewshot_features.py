"""Probe: would a richer space than the 9-d embedding let NPM few-shot find pedestrians? (issue #7)

  cd training && /usr/bin/python3 -m probes.fewshot_features runs/camvid-open/last.pt pedestrian 5

Shots: the K train frames with the most pixels of the class (as `dmlreview fewshot`). On val, at the
decoder's 1/4 resolution, it prints the novel IoU of:
  * NPM in the embedding (nearest prototype among known + taught, within a squared radius r);
  * nearest class mean in the 64-d decoder features (the layer before the embedding), known class means from
    the shot frames' predicted pixels, Euclidean and cosine; and gated by MMSP;
and the AUROC of the distance to the novel prototype, in both spaces, over all val pixels.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from dmlnet.checkpoint import load_checkpoint, restore
from dmlnet.config import data_root
from dmlnet.data import IGNORE, MEAN, STD, SegData, build_label_map, normalize, read_dataset
from dmlnet.metrics import ood_metrics


def main(checkpoint, teach, shots):
    torch.set_num_threads(2)
    ck = load_checkpoint(checkpoint)
    cfg = ck["config"]
    net, head = restore(ck)
    P = head.prototypes().detach()
    root = data_root(cfg)
    full = lambda split: SegData(read_dataset("camvid", root, split),  # noqa: E731
                                 build_label_map(read_dataset("camvid", root, split), []))
    tr, va = full("train"), full("val")
    names = [c.name for c in tr.labelmap.known]
    cls = names.index(teach)
    known = len(P)
    feat = {}
    net.decoder.register_forward_hook(lambda m, i, o: feat.__setitem__("f", o))

    @torch.no_grad()
    def run(img):
        x = F.interpolate(normalize(img, MEAN, STD)[None], size=(360, 480), mode="bilinear", align_corners=False)
        e = net(x)[0][:, ::4, ::4]
        f = feat["f"][0]
        return e.reshape(e.shape[0], -1).T, f.reshape(f.shape[0], -1).T

    sqd = lambda a, b: ((a[:, None] - b[None]) ** 2).sum(-1)  # noqa: E731
    chosen = np.argsort([(lab == cls).sum().item() for lab in tr.labels])[::-1][:shots]
    novel_e, novel_f, known_sum, known_count = [], [], torch.zeros(known, 64), torch.zeros(known)
    for i in chosen:
        e, f = run(tr.images[i])
        mask = tr.labels[i][::4, ::4].reshape(-1) == cls
        novel_e.append(e[mask].mean(0))
        novel_f.append(f[mask].mean(0))
        pred = sqd(e, P).argmin(1)
        for k in range(known):
            sel = (pred == k) & ~mask
            known_sum[k] += f[sel].sum(0)
            known_count[k] += sel.sum()
    novel_e, novel_f = torch.stack(novel_e).mean(0), torch.stack(novel_f).mean(0)
    known_f = known_sum / known_count.clamp(min=1)[:, None]
    rows = {k: [] for k in ("dk", "dn", "mmsp", "fk", "fn", "ck", "cn", "label")}
    for img, lab in zip(va.images, va.labels):
        e, f = run(img)
        dk = sqd(e, P)
        rows["dk"].append(dk.min(1).values)
        rows["dn"].append(((e - novel_e) ** 2).sum(1))
        rows["mmsp"].append(1 - torch.softmax(-dk, 1).max(1).values)
        rows["fk"].append(sqd(f, known_f).min(1).values)
        rows["fn"].append(((f - novel_f) ** 2).sum(1))
        fn = F.normalize(f, dim=1)
        rows["ck"].append((1 - fn @ F.normalize(known_f, dim=1).T).min(1).values)
        rows["cn"].append(1 - fn @ F.normalize(novel_f, dim=0))
        rows["label"].append(lab[::4, ::4].reshape(-1))
    r = {k: torch.cat(v) for k, v in rows.items()}
    valid, truth = r["label"] != IGNORE, r["label"] == cls

    def iou(taken):
        return round(100 * (taken & truth & valid).sum().item() / ((taken | truth) & valid).sum().item(), 2)

    for radius in (0.5, 1, 2, 4):
        print(f"embedding NPM, r = {radius}: IoU {iou((r['dn'] < r['dk']) & (r['dn'] < radius))}")
    print(f"decoder features, nearest mean (Euclidean): IoU {iou(r['fn'] < r['fk'])}")
    print(f"decoder features, nearest mean (cosine): IoU {iou(r['cn'] < r['ck'])}")
    for gate in (0.2, 0.4):
        print(f"decoder features, nearest mean, MMSP > {gate}: IoU {iou((r['fn'] < r['fk']) & (r['mmsp'] > gate))}")
    g = truth[valid].numpy()
    auroc = {space: ood_metrics(-r[key][valid].numpy(), g)["auroc"] for space, key in (("e", "dn"), ("f", "fn"))}
    print(f"AUROC of -distance to the novel prototype: embedding {auroc['e']:.1f}, decoder features {auroc['f']:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "pedestrian", int(sys.argv[3]) if len(sys.argv) > 3 else 5)
