"""PyTorch eager speed of a shipped model (weights rebuilt from its ONNX file), for `npm run bench`.

  cd training && /usr/bin/python3 -m tools.bench_torch MODELS_DIR NAME

Prints one JSON line {torch, convMacs} when ready, then for every line "THREADS FRAMES" read from stdin one
JSON line: ms per frame of the network alone and of network + metric head (distances, score, nearest
class, as training/dmlnet evaluates). The caller interleaves these with its own timings.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn

from dmlnet import scores as S
from dmlnet import torch_from_onnx
from dmlnet.heads import sq_distances


def conv_macs(net, height, width):
    total = [0]

    def hook(mod, _inputs, output):
        kh, kw = mod.kernel_size
        total[0] += output.numel() * (mod.in_channels // mod.groups) * kh * kw

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    for h in hooks:
        h.remove()
    return total[0]


def time_per_frame(fn, frames):
    fn()
    start = time.perf_counter()
    for _ in range(frames):
        fn()
    return 1000 * (time.perf_counter() - start) / frames


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models_dir")
    p.add_argument("name")
    a = p.parse_args()
    net, head, cfg, card = torch_from_onnx.load(a.models_dir, a.name)
    h, w = card["input"]["height"], card["input"]["width"]
    x = torch.randn(1, 3, h, w)
    smax = card["scores"]["eds"]["sMax"]
    sfloor = card["scores"]["eds"].get("sFloor", 0.0)
    gmax = card["scores"].get("margin", {}).get("gMax", 1.0)
    score = card["scores"]["default"]

    @torch.no_grad()
    def network():
        return net(x)

    @torch.no_grad()
    def network_and_head():
        y = net(x)
        if card["output"]["kind"] == "logits":
            return y.argmax(1), S.linear_scores(y)[score]
        d = sq_distances(y, head.prototypes())
        p_eds = lambda: S.eds_fixed(S.eds_sum(d), smax, sfloor)  # noqa: E731 (only the scores that use it)
        value = {"eds": p_eds, "mmsp": lambda: S.mmsp(d), "combined": lambda: S.combined(p_eds(), d),
                 "margin": lambda: S.margin(d, gmax)}[score]()
        return d.argmin(1), value

    print(json.dumps({"torch": torch.__version__, "convMacs": conv_macs(net, h, w)}), flush=True)
    for line in sys.stdin:
        threads, frames = (int(v) for v in line.split())
        torch.set_num_threads(threads)
        print(json.dumps({"networkMs": time_per_frame(network, frames),
                          "networkAndHeadMs": time_per_frame(network_and_head, frames)}), flush=True)


if __name__ == "__main__":
    main()
