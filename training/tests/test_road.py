"""The road model's label refinement and its embedding network."""
import os

import numpy as np
import pytest
import torch

from dmlnet.data import ClassInfo
from dmlnet.heads import FixedPrototypes
from dmlnet.model import DeepLabEmbedding, ESPNetv2Embedding, exported_network
from dmlnet.road_labels import CITYSCAPES, PRETRAINED, TEACHER, VOID, merge, merge_tables
from dmlnet.tflite_graph import DEEPLAB_CITYSCAPES, DeepLabCityscapes

DEEPLAB = os.path.join(PRETRAINED, DEEPLAB_CITYSCAPES)

CAMVID = ["sky", "building", "pole", "road", "pavement", "tree", "sign", "fence", "car", "pedestrian", "bicyclist"]
CAMVID_VOID = 11


def _tables():
    return merge_tables([ClassInfo(i, n, [0, 0, 0]) for i, n in enumerate(CAMVID)])


def cs(name):
    return CITYSCAPES.index(name)


def test_teacher_refines_within_the_camvid_class_and_the_human_label_wins_otherwise():
    allowed, main = _tables()
    camvid = np.array([[8, 8, 5, 10, 10, CAMVID_VOID, CAMVID_VOID]], np.uint8)  # car car tree bic bic void void
    teacher = np.array([[cs("truck"), cs("road"), cs("terrain"), cs("bicycle"), cs("car"), cs("bus"), cs("sky")]],
                       np.uint8)
    conf = np.array([[0.5, 0.99, 0.6, 0.7, 0.99, 0.95, 0.5]], np.float32)
    out = merge(camvid, teacher, conf, allowed, main, CAMVID_VOID)
    assert out.tolist() == [[cs("truck"),    # a CamVid car the teacher calls a truck: truck
                             cs("car"),      # a CamVid car the teacher calls road: the human label, car
                             cs("terrain"),  # CamVid's tree holds terrain
                             cs("bicycle"),  # within bicyclist
                             VOID,           # bicyclist has no main class: void when the teacher disagrees
                             cs("bus"),      # void, teacher confident
                             VOID]]          # void, teacher unsure


def test_every_camvid_class_is_mapped():
    allowed, main = _tables()
    assert allowed.any(1).all()
    assert [CITYSCAPES[m] if m != VOID else None for m in main] == [
        "sky", "building", "pole", "road", "sidewalk", "vegetation", "traffic sign", "fence", "car", "person", None]


@pytest.mark.skipif(not os.path.isfile(TEACHER), reason=f"{TEACHER} (shared pretrained weights) absent")
def test_before_training_the_dml_classifier_predicts_what_the_cityscapes_model_does():
    torch.manual_seed(0)
    net = ESPNetv2Embedding(19, TEACHER).eval()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        logits = net.net(x)[:, :19]
        dml = FixedPrototypes(19).logits(net(x))
    assert torch.equal(dml.argmax(1), logits.argmax(1))


@pytest.mark.skipif(not os.path.isfile(DEEPLAB), reason=f"{DEEPLAB} (shared pretrained weights) absent")
def test_the_deeplab_embedding_starts_as_exactly_the_cityscapes_deeplab():
    """Its logits / 2T as the embedding: the same softmax, not only the same class, and the same per pixel.
    A missing 1/(2T) would keep the argmax but sharpen the softmax six-fold, which the probability check catches."""
    torch.manual_seed(0)
    net = DeepLabEmbedding(DEEPLAB, 19, T=3.0).eval()
    teacher = DeepLabCityscapes(DEEPLAB, padding="symmetric").eval()
    x = torch.randn(1, 3, 65, 97)
    with torch.no_grad():
        want = teacher(x).softmax(1)
        got = FixedPrototypes(19).logits(net(x)).softmax(1)
    assert torch.allclose(got, want, atol=1e-4)
    assert not torch.allclose(FixedPrototypes(19).logits(net(x) * 6).softmax(1), want, atol=1e-2)


@pytest.mark.skipif(not os.path.isfile(DEEPLAB), reason=f"{DEEPLAB} (shared pretrained weights) absent")
def test_the_refined_deeplab_exports_its_quarter_embedding_which_upsamples_to_its_output():
    """The exported graph stops at 1/4 (the engine upsamples, corners aligned); that upsampling of the exported
    output is the whole network's output, so the engine and PyTorch see the same embedding."""
    torch.manual_seed(0)
    net = DeepLabEmbedding(DEEPLAB, 19, T=3.0, refine=8).eval()
    torch.nn.init.normal_(net.refine[2].weight, std=0.1)  # a trained refinement, not the zero start
    graph, stride = exported_network(net)
    assert stride == 4
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        quarter = graph(x)
        whole = net(x)
    assert tuple(quarter.shape) == (1, 19, 24, 32)
    upsampled = torch.nn.functional.interpolate(quarter, size=(96, 128), mode="bilinear", align_corners=True)
    assert torch.allclose(upsampled, whole, atol=1e-6)
    assert not torch.allclose(
        torch.nn.functional.interpolate(quarter, size=(96, 128), mode="bilinear", align_corners=False), whole,
        atol=1e-3)
    assert exported_network(DeepLabEmbedding(DEEPLAB, 19, T=3.0))[1] == 1
