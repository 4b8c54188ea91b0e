import pytest
import torch
import torchvision

from dmlnet.model import SegNet


def test_resnet_backbone_loads_a_local_weights_file_and_keeps_the_input_size(tmp_path):
    torch.manual_seed(0)
    weights = torchvision.models.resnet18().state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(weights, path)
    net = SegNet(backbone="resnet18", out_dim=9, pretrained=str(path)).eval()
    assert torch.equal(net.backbone.stem[0].weight, weights["conv1.weight"])
    with torch.no_grad():
        out = net(torch.randn(1, 3, 70, 90))
    assert out.shape == (1, 9, 70, 90)


def test_a_weights_file_of_another_network_is_refused_naming_it(tmp_path):
    path = tmp_path / "small.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match=r"small\.pth: not a resnet18 weights file"):
        SegNet(backbone="resnet18", out_dim=9, pretrained=str(path))


def test_weights_of_a_larger_resnet_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    with pytest.raises(ValueError, match=r"resnet50\.pth: not a resnet18 weights file \(size mismatch"):
        SegNet(backbone="resnet18", out_dim=9, pretrained=str(path))
