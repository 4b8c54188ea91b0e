"""Train a DMLNet-style open-set segmentation model.

  /usr/bin/python3 -m dmlnet.train --config configs/camvid-open.json --threads 2 --out runs/camvid-open

Writes OUT/last.pt (every ckptEvery steps and at the end), OUT/train.log, OUT/metrics.json.
``--resume`` continues from OUT/last.pt (or the given file); the configuration must match.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch

from .checkpoint import build, load_checkpoint, resolve_device, save_checkpoint
from .config import load_config, open_split, signature
from .data import AugConfig, DataError, SegData, batch_iterator
from .evaluation import calibrate_and_evaluate
from .losses import ce_loss, circle_loss, dce_vl_loss


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="JSON config (see configs/)")
    p.add_argument("--data", help="dataset root (default ../shared/datasets/camvid from the repo root)")
    p.add_argument("--dataset", help="camvid | cityscapes | streethazards")
    p.add_argument("--unknown", help="comma-separated class names held out as unknown ('' for none)")
    p.add_argument("--head", choices=["fixed-prototypes", "learned-centres", "linear"])
    p.add_argument("--backbone", choices=["small", "resnet18", "resnet50", "mobilenetv2", "espnetv2",
                                          "deeplab-edgetpu", "deeplab-logits"])
    p.add_argument("--pretrained", help="local backbone weights file (never downloaded)")
    p.add_argument("--embed-dim", type=int)
    p.add_argument("--T", type=float, help="fixed prototypes' scale (m_t = T e_t; DMLNet: 3)")
    p.add_argument("--vl-weight", type=float, help="lambda, the weight of the variance loss (DMLNet: 0.01)")
    p.add_argument("--name")
    p.add_argument("--steps", type=int)
    p.add_argument("--minutes", type=float, help="time budget; the poly schedule follows elapsed time")
    p.add_argument("--batch", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--crop", type=int, nargs=2, metavar=("H", "W"))
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, metrics)")
    p.add_argument("--resume", nargs="?", const="", default=None,
                   help="continue from a checkpoint (default OUT/last.pt)")
    p.add_argument("--init", help="initialise from another checkpoint (tensors whose shapes match; the "
                   "classifier of a different class set is left fresh), e.g. the camvid-open run")
    p.add_argument("--no-eval", action="store_true", help="skip calibration + val evaluation at the end")
    return p.parse_args(argv)


def config_from_args(a):
    over = {"dataset": {}, "model": {}, "loss": {}, "optim": {}, "train": {}, "aug": {}}
    if a.data:
        over["dataset"]["root"] = os.path.abspath(a.data)
    if a.dataset:
        over["dataset"]["name"] = a.dataset
    if a.unknown is not None:
        over["dataset"]["unknown"] = [u for u in a.unknown.split(",") if u.strip()]
    for k, v in (("head", a.head), ("backbone", a.backbone), ("pretrained", a.pretrained),
                 ("embedDim", a.embed_dim), ("T", a.T)):
        if v is not None:
            over["model"][k] = v
    if a.vl_weight is not None:
        over["loss"]["lambda"] = a.vl_weight
    if a.name:
        over["name"] = a.name
    if a.steps is not None:
        over["train"]["steps"] = a.steps
        over["train"]["minutes"] = None
    if a.minutes is not None:
        over["train"]["minutes"] = a.minutes
        if a.steps is None:
            over["train"]["steps"] = None
    if a.seed is not None:
        over["train"]["seed"] = a.seed
    if a.batch:
        over["optim"]["batch"] = a.batch
    if a.lr:
        over["optim"]["lr"] = a.lr
    if a.crop:
        over["aug"]["crop"] = list(a.crop)
    return load_config(a.config, over)


def param_groups(net, head, backbone_lr_scale):
    """A pretrained encoder learns at `backbone_lr_scale` times the rate of the fresh decoder and head, so
    that the first steps (large gradients from a random decoder) do not wash out what it already knows.
    At 0 the encoder is frozen: no gradient is computed for it at all (what it learnt elsewhere is kept
    whole, and a step costs its forward pass only)."""
    backbone = list(net.backbone.parameters())
    ids = {id(p) for p in backbone}
    rest = [p for p in net.parameters() if id(p) not in ids] + list(head.parameters())
    if backbone_lr_scale == 0:
        for p in backbone:
            p.requires_grad_(False)
        return [{"params": rest, "lrScale": 1.0}]
    return [{"params": backbone, "lrScale": float(backbone_lr_scale)}, {"params": rest, "lrScale": 1.0}]


def lr_factor(step, progress, warmup, power):
    w = min(1.0, (step + 1) / max(1, warmup))
    return w * max(0.0, 1.0 - progress) ** power


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def command_line():
    args = sys.argv[1:]
    if sys.argv and sys.argv[0].endswith(os.path.join("dmlnet", "train.py")):
        return " ".join(["python3 -m dmlnet.train"] + args)
    return " ".join(sys.argv)


class Logger:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        self.f.write(line + "\n")


def main(argv=None):
    a = parse(argv)
    torch.set_num_threads(a.threads)
    cfg = config_from_args(a)
    device = resolve_device(a.device)
    os.makedirs(a.out, exist_ok=True)
    log = Logger(os.path.join(a.out, "train.log"))
    log("command: " + command_line())
    try:
        return run(cfg, a, device, log)
    except DataError as e:
        log(f"ERROR: {e}")
        raise SystemExit(f"error: {e}") from None


def run(cfg, a, device, log):
    tc, oc = cfg["train"], cfg["optim"]
    if not tc.get("steps") and not tc.get("minutes"):
        raise DataError("give --steps or --minutes")
    # ---- all input checks before any training time is spent
    spec, lm = open_split(cfg, "train")
    open_split(cfg, "val")  # the val split must exist too (checked again at evaluation)
    sig = signature(cfg, [c.name for c in lm.known])
    ckpt_path = os.path.join(a.out, "last.pt")
    ck = None
    if a.resume is not None:
        rp = a.resume or ckpt_path
        ck = load_checkpoint(rp, "cpu", expect_signature=sig)
        log(f"resuming from {rp} at step {ck['step']} ({ck['elapsed']:.0f}s done)")
    log(f"loading {len(spec.samples)} train images from {spec.root}")
    data = SegData(spec, lm)
    seed_all(tc["seed"])
    net, head = build(cfg, lm.num_known, device, pretrained=ck is None)
    opt = torch.optim.AdamW(param_groups(net, head, oc.get("backboneLrScale", 1.0)), lr=oc["lr"],
                            weight_decay=oc["weightDecay"])
    step, elapsed = 0, 0.0
    if ck is not None:
        net.load_state_dict(ck["model"])
        head.load_state_dict(ck["head"])
        opt.load_state_dict(ck["optim"])
        step, elapsed = ck["step"], ck["elapsed"]
    elif a.init:
        src = load_checkpoint(a.init, "cpu")
        own = net.state_dict()
        take = {k: v for k, v in src["model"].items() if k in own and own[k].shape == v.shape}
        skipped = sorted(set(own) - set(take))
        net.load_state_dict(take, strict=False)
        log(f"initialised from {a.init} (step {src['step']}): {len(take)} tensors, fresh: {skipped}")
    nparam = sum(p.numel() for p in net.parameters())
    log(f"config: {json.dumps(cfg)}")
    log(f"known={[c.name for c in lm.known]} unknown={[c.name for c in lm.unknown]} params={nparam} "
        f"device={device}")
    aug = AugConfig(crop=tuple(cfg["aug"]["crop"]), scale=tuple(cfg["aug"]["scale"]),
                    base=tuple(cfg["dataset"]["size"]) if cfg["dataset"].get("size") else None,
                    jitter=cfg["aug"]["jitter"])
    mean, std = cfg["normalize"]["mean"], cfg["normalize"]["std"]
    stream = batch_iterator(data, oc["batch"], aug, tc["seed"], start_step=step, mean=mean, std=std)
    budget = tc["minutes"] * 60 if tc.get("minutes") else None
    total = tc.get("steps")

    def progress(s, el):
        p = 0.0
        if total:
            p = max(p, s / total)
        if budget:
            p = max(p, el / budget)
        return min(1.0, p)

    lc = cfg["loss"]
    net.train()
    t_last = time.time()
    run_t0 = time.time() - elapsed
    stats = []

    def save(final=False):
        state = {"config": cfg, "signature": sig, "model": net.state_dict(), "head": head.state_dict(),
                 "optim": opt.state_dict(), "step": step, "elapsed": time.time() - run_t0,
                 "known": [vars(c) for c in lm.known], "unknownClasses": [vars(c) for c in lm.unknown],
                 "command": command_line(), "device": str(device), "final": final}
        save_checkpoint(state, ckpt_path)
        return state

    while progress(step, time.time() - run_t0) < 1.0:
        torch.manual_seed(tc["seed"] * 7919 + step)  # dropout; reproducible across resumes
        _, x, y = next(stream)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        f = lr_now = oc["lr"] * lr_factor(step, progress(step, time.time() - run_t0), oc["warmup"], oc["poly"])
        for g in opt.param_groups:
            g["lr"] = f * g["lrScale"]
        out = net(x)
        if head.type == "fixed-prototypes":
            loss, l1, l2 = dce_vl_loss(out, y, head.prototypes(), lam=lc["lambda"])
        elif head.type == "learned-centres":
            loss = circle_loss(head.cosines(out), y, m=lc["circleM"], gamma=lc["circleGamma"])
            l1, l2 = loss, torch.zeros(())
        else:
            loss = ce_loss(out, y)
            l1, l2 = loss, torch.zeros(())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            raise SystemExit(f"non-finite loss at step {step}")
        stats.append((loss.item(), l1.item(), l2.item()))
        step += 1
        if step % tc["logEvery"] == 0:
            n = len(stats)
            m = [sum(s[i] for s in stats) / n for i in range(3)]
            dt = (time.time() - t_last) / n
            el = time.time() - run_t0
            log(f"step {step} loss {m[0]:.4f} main {m[1]:.4f} vl {m[2]:.3f} lr {lr_now:.2e} "
                f"{dt:.2f}s/step elapsed {el / 60:.1f}min progress {100 * progress(step, el):.1f}%")
            stats, t_last = [], time.time()
        if step % tc["ckptEvery"] == 0:
            save()
    state = save(final=True)
    log(f"training done: {step} steps in {state['elapsed']:.0f}s")
    if a.no_eval:
        return state
    calibrate_and_evaluate(state, net, head, cfg, device, ckpt_path, log)
    return state


if __name__ == "__main__":
    main()
