"""The TFLite reader and MobileNetV2 loader against the reference images shipped with the weights."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

from dmlnet.config import REPO_ROOT
from dmlnet.mobilenetv2 import MobileNetV2, load_mobilenet_v2_tflite, tf_same_padding, torch_weight
from dmlnet.model import SegNet
from dmlnet.tflite import TFLiteError, read_tflite

IMAGENET = os.path.join(REPO_ROOT, "..", "shared", "pretrained", "imagenet")
FILES = ["tf2_mobilenet_v2_1.0_224_ptq.tflite", "mobilenet_v2_1.0_224_quant.tflite"]
EXPECTED = {"grace_hopper": "military uniform", "cat": "Egyptian cat"}

needs_weights = pytest.mark.skipif(not os.path.isdir(IMAGENET), reason=f"{IMAGENET} (shared pretrained weights) absent")


def _labels():
    with open(os.path.join(IMAGENET, "imagenet_labels.txt")) as f:
        return f.read().splitlines()


def _input(name):
    im = Image.open(os.path.join(IMAGENET, f"{name}.bmp")).convert("RGB").resize((224, 224), Image.BILINEAR)
    a = np.asarray(im).astype(np.float32) / 127.5 - 1.0  # the models' uint8 quantisation of the input
    return torch.from_numpy(a.transpose(2, 0, 1))[None]


@torch.no_grad()
def _probabilities(net, name):
    return net.eval()(_input(name)).softmax(1)[0]


@needs_weights
@pytest.mark.parametrize("file", FILES)
def test_reference_images_give_their_expected_top1(file):
    net = load_mobilenet_v2_tflite(os.path.join(IMAGENET, file), padding="tf", classifier=True)
    labels = _labels()
    for image, expected in EXPECTED.items():
        p = _probabilities(net, image)
        assert labels[int(p.argmax())] == expected, (file, image, labels[int(p.argmax())])


def _weights_without_transpose(model, op):
    """OHWI read as if it were OIHW: the layout mistake the loader must not make."""
    w = model.tensors[op.inputs[1]].value()
    shape = (w.shape[0], w.shape[3], w.shape[1], w.shape[2]) if op.op == "CONV_2D" else \
        (w.shape[3], 1, w.shape[1], w.shape[2])
    return torch.from_numpy(np.ascontiguousarray(w.reshape(shape)))


@needs_weights
def test_a_wrong_weight_layout_loses_the_reference_classes():
    path = os.path.join(IMAGENET, FILES[0])
    labels = _labels()
    right = load_mobilenet_v2_tflite(path, padding="tf", classifier=True, layout=torch_weight)
    wrong = load_mobilenet_v2_tflite(path, padding="tf", classifier=True, layout=_weights_without_transpose)
    for image, expected in EXPECTED.items():
        assert labels[int(_probabilities(right, image).argmax())] == expected
        assert labels[int(_probabilities(wrong, image).argmax())] != expected


@needs_weights
def test_symmetric_padding_moves_the_exact_outputs():
    """TensorFlow's SAME padding is what the weights were trained with: with PyTorch's symmetric padding the
    per-channel model's confidence in "military uniform" falls from about 0.72 to about 0.11."""
    path = os.path.join(IMAGENET, FILES[0])
    index = _labels().index(EXPECTED["grace_hopper"])
    tf = _probabilities(load_mobilenet_v2_tflite(path, padding="tf", classifier=True), "grace_hopper")
    sym = _probabilities(load_mobilenet_v2_tflite(path, padding="symmetric", classifier=True), "grace_hopper")
    assert tf[index] > 0.6
    assert sym[index] < 0.5


def test_tf_same_padding_puts_the_extra_pixel_after():
    assert tf_same_padding(224, 3, 2, 1) == (0, 1)  # even size, stride 2: bottom/right only
    assert tf_same_padding(7, 3, 2, 1) == (1, 1)
    assert tf_same_padding(10, 3, 1, 1) == (1, 1)
    assert tf_same_padding(10, 3, 1, 2) == (2, 2)
    assert tf_same_padding(33, 5, 1, 1) == (2, 2)


def test_reader_names_the_file_it_cannot_read(tmp_path):
    bad = tmp_path / "notes.tflite"
    bad.write_bytes(b"this is not a flatbuffer")
    with pytest.raises(TFLiteError, match="notes.tflite: not a TFLite file"):
        read_tflite(str(bad))
    with pytest.raises(TFLiteError, match="missing.tflite: cannot read"):
        read_tflite(str(tmp_path / "missing.tflite"))


@needs_weights
def test_reader_dequantises_per_channel_weights():
    model = read_tflite(os.path.join(IMAGENET, FILES[0]))
    conv = next(op for op in model.operators if op.op == "CONV_2D")
    w = model.tensors[conv.inputs[1]]
    assert w.shape == (32, 3, 3, 3) and w.scale.size == 32 and w.quantized_dimension == 0
    value = w.value()
    np.testing.assert_allclose(value[5], w.scale[5] * (w.data[5].astype(np.float32) - w.zero_point[5]))


def test_segmentation_encoder_features_at_quarter_eighth_and_sixteenth():
    net = MobileNetV2(output_stride=16)
    c1, c2, c3 = net.features(torch.zeros(1, 3, 96, 128))
    assert c1.shape == (1, 24, 24, 32) and c2.shape == (1, 32, 12, 16) and c3.shape == (1, 320, 6, 8)
    seg = SegNet(backbone="mobilenetv2", out_dim=9).eval()
    assert seg(torch.zeros(1, 3, 37, 53)).shape == (1, 9, 37, 53)


CITYSCAPES = os.path.join(REPO_ROOT, "..", "shared", "pretrained", "cityscapes")
needs_cityscapes = pytest.mark.skipif(not os.path.isdir(CITYSCAPES), reason=f"{CITYSCAPES} absent")


@needs_cityscapes
def test_cityscapes_deeplab_reproduces_its_reference_mask():
    """The float re-execution of the uint8 DeepLab agrees with the file's reference mask (measured 91.9%)."""
    from dmlnet.tflite_graph import DEEPLAB_CITYSCAPES, DeepLabCityscapes
    net = DeepLabCityscapes(os.path.join(CITYSCAPES, DEEPLAB_CITYSCAPES)).eval()
    image = Image.open(os.path.join(CITYSCAPES, "cityscapes_segmentation.bmp")).convert("RGB")
    mask = np.asarray(Image.open(os.path.join(CITYSCAPES, "cityscapes_segmentation_mask.bmp")))
    assert image.size == (513, 513)
    x = torch.from_numpy((np.asarray(image, np.float32).transpose(2, 0, 1) - 128) / 128)[None]
    with torch.no_grad():
        predicted = net(x).argmax(1)[0].numpy()
    agreement = float((predicted == mask).mean())
    print(f"DeepLab MobileNet-EdgeTPU vs reference mask: {100 * agreement:.2f}% of pixels")
    assert agreement >= 0.85


@needs_cityscapes
def test_deeplab_encoder_gives_quarter_eighth_and_sixteenth_features():
    from dmlnet.model import DeepLabEdgeTPUBackbone
    from dmlnet.tflite_graph import DEEPLAB_CITYSCAPES
    enc = DeepLabEdgeTPUBackbone(os.path.join(CITYSCAPES, DEEPLAB_CITYSCAPES)).eval()
    assert enc.channels == (24, 40, 128)
    with torch.no_grad():
        c1, c2, c3 = enc(torch.zeros(1, 3, 96, 128))
    assert c1.shape == (1, 24, 24, 32) and c2.shape == (1, 40, 12, 16) and c3.shape == (1, 128, 6, 8)
