"""The TF.js graph runner (dmlnet/tfjs_graph.py, the encoder of probes/pretrained_encoder.py) against TensorFlow's
semantics, on a hand-made graph."""
import base64
import json
import os

import numpy as np
import torch

from dmlnet.tfjs_graph import TfjsGraph, resize_bilinear_legacy


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _conv(name, op, inputs, stride, fused):
    attr = {"strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}}, "padding": {"s": _b64("SAME")},
            "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}
    if fused:
        attr["fused_ops"] = {"list": {"s": [_b64(f) for f in fused]}}
    return {"name": name, "op": op, "input": inputs, "attr": attr}


def write_graph(folder, consts):
    """x -> conv 3x3 stride 2 (+bias, relu6) -> depthwise 3x3, multiplier 2 (+bias) -> * its spatial mean."""
    nodes = [{"name": "x", "op": "Placeholder"}] + [{"name": n, "op": "Const"} for n in consts] + [
        _conv("conv", "_FusedConv2D", ["x", "w", "b"], 2, ["BiasAdd", "Relu6"]),
        _conv("dw", "FusedDepthwiseConv2dNative", ["conv", "dw_w", "dw_b"], 1, ["BiasAdd"]),
        {"name": "mean", "op": "Mean", "input": ["dw", "axes"], "attr": {"keep_dims": {"b": True}}},
        {"name": "out", "op": "Mul", "input": ["dw", "mean"]}]
    specs, blobs = [], []
    for name, array in consts.items():
        spec = {"name": name, "shape": list(array.shape), "dtype": "int32" if array.dtype == np.int32 else "float32"}
        if name == "w":  # stored as float16, as the npm models are
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            array = array.astype(np.float16)
        specs.append(spec)
        blobs.append(array.tobytes())
    with open(os.path.join(folder, "w.bin"), "wb") as fh:
        fh.write(b"".join(blobs))
    with open(os.path.join(folder, "model.json"), "w") as fh:
        json.dump({"modelTopology": {"node": nodes}, "weightsManifest": [{"paths": ["w.bin"], "weights": specs}]}, fh)
    return os.path.join(folder, "model.json")


def reference(x, c):
    """NHWC loops with TF's SAME padding (an odd total pads one more at the bottom and right)."""
    h, w = x.shape[:2]
    oh, ow = -(-h // 2), -(-w // 2)
    top, left = ((oh - 1) * 2 + 3 - h) // 2, ((ow - 1) * 2 + 3 - w) // 2
    padded = np.zeros((h + 4, w + 4, 3))
    padded[2:2 + h, 2:2 + w] = x
    conv = np.zeros((oh, ow, 4))
    for y in range(oh):
        for xx in range(ow):
            patch = padded[2 + 2 * y - top:2 + 2 * y - top + 3, 2 + 2 * xx - left:2 + 2 * xx - left + 3]
            conv[y, xx] = np.einsum("abc,abco->o", patch, c["w"].astype(np.float16).astype(np.float64))
    conv = np.clip(conv + c["b"], 0, 6)
    padded = np.pad(conv, ((1, 1), (1, 1), (0, 0)))
    dw = np.zeros((oh, ow, 8))
    for y in range(oh):
        for xx in range(ow):
            patch = padded[y:y + 3, xx:xx + 3]
            dw[y, xx] = np.einsum("abc,abcm->cm", patch, c["dw_w"]).reshape(-1)  # channel c * 2 + m
    dw = dw + c["dw_b"]
    return dw * dw.mean(axis=(0, 1), keepdims=True)


def test_convolutions_padding_depthwise_order_and_float16_weights(tmp_path):
    rng = np.random.default_rng(0)
    consts = {"w": rng.normal(size=(3, 3, 3, 4)).astype(np.float32), "b": rng.normal(size=4).astype(np.float32),
              "dw_w": rng.normal(size=(3, 3, 4, 2)).astype(np.float32), "dw_b": rng.normal(size=8).astype(np.float32),
              "axes": np.array([1, 2], dtype=np.int32)}
    graph = TfjsGraph(write_graph(str(tmp_path), consts), ["out"])
    x = rng.uniform(0, 1, size=(8, 11, 3))  # 8 x 11 with stride 2: padding 1 (bottom only) and 2 (one each side)
    got = graph(torch.tensor(x, dtype=torch.float32).permute(2, 0, 1)[None])[0][0].permute(1, 2, 0).detach().numpy()
    np.testing.assert_allclose(got, reference(x, consts), rtol=1e-4, atol=1e-4)


def test_legacy_bilinear_resize_doubles_like_tensorflow():
    x = torch.tensor([[1.0, 3.0, 7.0]]).view(1, 1, 1, 3).expand(1, 1, 2, 3)
    # TF without half-pixel centres: out[2k] = in[k], out[2k+1] = (in[k] + in[k+1]) / 2, the edge repeats.
    expected = torch.tensor([1.0, 2.0, 3.0, 5.0, 7.0, 7.0])
    got = resize_bilinear_legacy(x, (4, 6))
    assert torch.allclose(got[0, 0, 0], expected) and torch.allclose(got[0, 0, 3], expected)
