"""ESPNetv2 (dmlnet.espnetv2) against the EdgeNets Cityscapes weights and their reference image.

The reference mask ``cityscapes_segmentation_mask.bmp`` holds Cityscapes train ids (0 road, 1 sidewalk,
2 building, 4 fence, 5 pole, 8 vegetation, 9 terrain, 13 car; no background id), although the README
next to it says "0 = background, then the 19 classes": read that way the cars would be "rider" and the
road "background", and the network agrees on 0.5% of the pixels. ESPNetv2's outputs 0..18 are those
train ids (19 = background), so its argmax is compared with the mask as it is.
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dmlnet import espnetv2 as E

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRETRAINED = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "pretrained"))
CITY = os.path.join(PRETRAINED, "cityscapes")
WEIGHTS = os.path.join(CITY, "espnetv2_s_2.0_city_1024x512.pth")
needs_weights = pytest.mark.skipif(not os.path.isfile(WEIGHTS), reason=f"{WEIGHTS} (shared pretrained weights) absent")

MIN_AGREEMENT = 0.85


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def net():
    return E.load_espnetv2_cityscapes(WEIGHTS)


@pytest.fixture(scope="module")
def reference():
    img = Image.open(os.path.join(CITY, "cityscapes_segmentation.bmp"))
    mask = np.array(Image.open(os.path.join(CITY, "cityscapes_segmentation_mask.bmp")))
    return img, mask


def agreement(net, x, mask):
    """Share of pixels where the argmax, resized (nearest) to the mask's size, equals the mask."""
    with torch.no_grad():
        pred = net(x).argmax(1)[0].numpy().astype(np.uint8)
    pred = np.array(Image.fromarray(pred).resize(mask.shape[::-1], Image.NEAREST))
    return float((pred == mask).mean())


@needs_weights
def test_the_weights_load_strictly_and_a_changed_state_dict_is_refused_naming_the_file(tmp_path):
    net = E.load_espnetv2_cityscapes(WEIGHTS)
    sd = torch.load(WEIGHTS, map_location="cpu")
    assert sum(p.numel() for p in net.parameters()) == 789242
    assert not net.training

    dropped = dict(sd)
    del dropped["base_net.level4.6.spp_dw.3.conv.weight"]
    torch.save(dropped, tmp_path / "dropped.pth")
    with pytest.raises(ValueError, match=r"dropped\.pth: .*Missing key.*level4\.6\.spp_dw\.3"):
        E.load_espnetv2_cityscapes(tmp_path / "dropped.pth")

    reshaped = dict(sd)
    reshaped["bu_dec_l4.merge_layer.3.weight"] = torch.zeros(19, 10, 1, 1)
    torch.save(reshaped, tmp_path / "reshaped.pth")
    with pytest.raises(ValueError, match=r"reshaped\.pth: .*size mismatch for bu_dec_l4\.merge_layer\.3\.weight"):
        E.load_espnetv2_cityscapes(tmp_path / "reshaped.pth")

    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(ValueError, match=r"notes\.txt: not a PyTorch state dict"):
        E.load_espnetv2_cityscapes(tmp_path / "notes.txt")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(ValueError, match=r"list\.pth: not a PyTorch state dict"):
        E.load_espnetv2_cityscapes(tmp_path / "list.pth")


@needs_weights
def test_the_reference_image_at_the_original_input_size_agrees_with_the_mask(net, reference):
    img, mask = reference
    x = E.preprocess(img)  # 513x513 -> 1024x512, as the original evaluates
    assert x.shape == (1, 3, 512, 1024)
    with torch.no_grad():
        logits = net(x)
    assert logits.shape == (1, 20, 512, 1024)
    got = agreement(net, x, mask)
    print(f"\nESPNetv2 vs reference mask at 1024x512: {got:.2%} of pixels agree")
    assert got >= MIN_AGREEMENT


@needs_weights
def test_swapped_channels_or_reversed_branch_dilations_lower_the_agreement(net, reference):
    img, mask = reference
    x = E.preprocess(img)
    good = agreement(net, x, mask)
    bgr = agreement(net, x.flip(1), mask)

    wrong = E.load_espnetv2_cityscapes(WEIGHTS)
    for m in wrong.modules():  # the EESP branches in the opposite order of dilation
        if isinstance(m, E.EESP):
            rates = [b.conv.dilation[0] for b in m.spp_dw][::-1]
            for b, d in zip(m.spp_dw, rates):
                b.conv.dilation, b.conv.padding = (d, d), (d, d)
    reversed_order = agreement(wrong, x, mask)
    print(f"\nagreement: RGB {good:.2%}, BGR {bgr:.2%}, EESP dilations reversed {reversed_order:.2%}")
    assert bgr < good - 0.2  # measured 89% -> 45%
    assert reversed_order < good - 0.2  # measured 89% -> 53%


def test_the_traceable_adaptive_pool_equals_pytorchs():
    g = torch.Generator().manual_seed(0)
    for hi, wi, ho, wo in [(7, 9, 5, 5), (35, 23, 23, 35), (45, 60, 5, 7), (3, 4, 5, 5), (46, 60, 23, 30)]:
        x = torch.randn(2, 3, hi, wi, generator=g)
        ref = F.adaptive_avg_pool2d(x, (ho, wo))
        got = E._adaptive_avg_axis(E._adaptive_avg_axis(x, 2, ho), 3, wo)
        assert torch.allclose(got, ref, atol=1e-6), (hi, wi, ho, wo)
    for n in (3, 23, 30, 45, 61, 180):  # max(ceil(n * s), 5), eager and on a traced-shape tensor
        for s in E._PYR_SCALES:
            expected = max(-(-n * round(s * 10) // 10), 5)
            assert E.pyramid_size(n, s) == int(E.pyramid_size(torch.tensor(n), s)) == expected


def test_features_feed_the_classifier_and_any_input_size_works():
    torch.manual_seed(0)
    net = E.ESPNetv2Seg().eval()
    x = torch.randn(1, 3, 45, 70)  # not a multiple of 16 (the original needs one)
    with torch.no_grad():
        feats = net.features(x)
        logits = net(x)
    assert feats.shape == (1, E.FEATURE_CHANNELS, 23, 35) and E.FEATURE_CHANNELS == 10
    again = F.interpolate(net.bu_dec_l4.merge_layer[3](feats), size=(45, 70), mode="bilinear", align_corners=True)
    assert logits.shape == (1, 20, 45, 70)
    assert torch.allclose(again, logits, atol=1e-5)


def _ort_runner():
    node = shutil.which("node")
    ort = os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node")
    return node if node and os.path.isdir(ort) else None


ORT_JS = """
const ort = require(process.argv[1]);
const fs = require('fs');
(async () => {
  const s = await ort.InferenceSession.create(process.argv[2], {intraOpNumThreads: 1});
  const out = {};
  for (const c of JSON.parse(process.argv[3])) {
    const b = fs.readFileSync(c.file);
    const x = new ort.Tensor('float32', new Float32Array(b.buffer, b.byteOffset, b.length / 4), c.shape);
    const y = (await s.run({image: x}))[s.outputNames[0]];
    fs.writeFileSync(c.file + '.out', Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    out[c.file] = y.dims;
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
"""


@pytest.mark.filterwarnings("ignore:The shape inference of prim")  # an exporter note, harmless
def test_onnx_export_keeps_height_and_width_dynamic(tmp_path):
    """Exported at 64x96, run by onnxruntime-node (the app's runtime) at two other sizes.

    dmlnet.onnx_run cannot run this graph: it lacks Pad, PRelu, Sigmoid, Transpose, CumSum, Range, Ceil."""
    onnx = pytest.importorskip("onnx")
    torch.manual_seed(0)
    net = E.load_espnetv2_cityscapes(WEIGHTS) if os.path.isfile(WEIGHTS) else E.ESPNetv2Seg().eval()
    path = str(tmp_path / "espnetv2.onnx")
    torch.onnx.export(net, torch.randn(1, 3, 64, 96), path, input_names=["image"], output_names=["logits"],
                      opset_version=13, dynamic_axes={"image": {2: "height", 3: "width"},
                                                      "logits": {2: "height", 3: "width"}})
    model = onnx.load(path)
    onnx.checker.check_model(model)
    dims = model.graph.output[0].type.tensor_type.shape.dim
    assert (dims[2].dim_param, dims[3].dim_param) == ("height", "width")
    assert "AdaptiveAvgPool" not in {n.op_type for n in model.graph.node}

    node = _ort_runner()
    if node is None:
        pytest.skip("node with node_modules/onnxruntime-node absent: graph exported and checked, not run")
    cases, refs = [], {}
    for h, w in [(48, 64), (37, 53)]:
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(h * 1000 + w))
        f = str(tmp_path / f"x{h}x{w}.bin")
        x.numpy().astype(np.float32).tofile(f)
        cases.append({"file": f, "shape": [1, 3, h, w]})
        with torch.no_grad():
            refs[f] = net(x).numpy()
    ort = os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node")
    res = subprocess.run([node, "-e", ORT_JS, ort, path, json.dumps(cases)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    for f, ref in refs.items():
        got = np.fromfile(f + ".out", np.float32).reshape(ref.shape)
        assert np.abs(got - ref).max() < 1e-3
