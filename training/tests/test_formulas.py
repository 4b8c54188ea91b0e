import math

import numpy as np
import torch

from dmlnet import scores as S
from dmlnet.data import IGNORE, OOD
from dmlnet.heads import FixedPrototypes, LearnedCentres, sq_distances
from dmlnet.losses import ce_loss, circle_loss, dce_vl_loss


def emb(vectors):
    """list of D-vectors -> [1, D, 1, N] embedding map"""
    return torch.tensor(vectors, dtype=torch.float64).t().reshape(1, len(vectors[0]), 1, len(vectors))


def test_sq_distances_and_fixed_prototypes():
    head = FixedPrototypes(3, T=3.0)
    assert torch.equal(head.prototypes(), 3 * torch.eye(3))
    f = emb([[1.0, 0.0, 2.0]])
    d = sq_distances(f, head.prototypes().double())[0, :, 0, 0]
    # ||(1,0,2)-(3,0,0)||^2 = 4+0+4 = 8; to (0,3,0): 1+9+4 = 14; to (0,0,3): 1+0+1 = 2
    assert torch.allclose(d, torch.tensor([8.0, 14.0, 2.0], dtype=torch.float64))


def test_dce_vl_hand_computed():
    protos = 3 * torch.eye(2, dtype=torch.float64)
    f = emb([[3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    labels = torch.tensor([[[0, 1, IGNORE]]])
    total, dce, vl = dce_vl_loss(f, labels, protos, lam=0.01)
    # pixel 0: d = (0, 18), label 0: -log(e^0 / (e^0 + e^-18)) = log(1 + e^-18)
    # pixel 1: d = (5, 5), label 1: log 2;  pixel 2 ignored
    dce_hand = (math.log1p(math.exp(-18)) + math.log(2)) / 2
    vl_hand = (0.0 + 5.0) / 2
    assert abs(dce.item() - dce_hand) < 1e-9
    assert abs(vl.item() - vl_hand) < 1e-9
    assert abs(total.item() - (dce_hand + 0.01 * vl_hand)) < 1e-9


def test_held_out_pixels_are_ignored_by_losses():
    protos = 3 * torch.eye(2, dtype=torch.float64)
    f = emb([[3.0, 0.0], [7.0, -4.0]])
    a = dce_vl_loss(f, torch.tensor([[[0, OOD]]]), protos)[0]
    b = dce_vl_loss(f[..., :1], torch.tensor([[[0]]]), protos)[0]
    assert abs(a.item() - b.item()) < 1e-12
    logits = torch.randn(1, 3, 1, 2, dtype=torch.float64)
    assert abs(ce_loss(logits, torch.tensor([[[2, OOD]]])).item()
               - ce_loss(logits[..., :1], torch.tensor([[[2]]])).item()) < 1e-12


def test_circle_loss_hand_computed():
    m, g = 0.25, 64.0
    cos = torch.tensor([0.8, 0.1, -0.3], dtype=torch.float64).view(1, 3, 1, 1)
    loss = circle_loss(cos, torch.tensor([[[0]]]), m=m, gamma=g).item()
    sp = 0.8
    ap = 1 + m - sp
    lp = -g * ap * (sp - (1 - m))
    ln = [g * max(s + m, 0) * (s - m) for s in (0.1, -0.3)]
    hand = math.log1p(sum(math.exp(x) for x in ln) * math.exp(lp))
    assert abs(loss - hand) < 1e-9


def test_learned_centres_distance_is_cosine():
    head = LearnedCentres(3, 4, scale=2.0)
    f = torch.randn(1, 4, 2, 2)
    f = 2.0 * f / f.norm(dim=1, keepdim=True)
    d = sq_distances(f, head.prototypes())
    cos = head.cosines(f)
    assert torch.allclose(d, 2 * 4.0 * (1 - cos), atol=1e-5)


def test_eds_floor_is_the_smallest_distance_sum_any_embedding_can_have():
    T, K = 3.0, 9
    protos = T * torch.eye(K, dtype=torch.float64)
    assert abs(S.eds_floor(protos) - (K - 1) * T * T) < 1e-9  # (K-1) T^2 for fixed prototypes
    torch.manual_seed(0)
    centres = torch.randn(4, 6, dtype=torch.float64)
    at_centroid = ((centres.mean(0) - centres) ** 2).sum()
    assert abs(S.eds_floor(centres) - at_centroid.item()) < 1e-9
    others = torch.randn(200, 6, dtype=torch.float64)
    sums = ((others[:, None, :] - centres[None]) ** 2).sum((1, 2))
    assert (sums >= at_centroid).all()


def test_scores_hand_computed():
    # two pixels, K = 2; distances chosen by hand
    d = torch.tensor([[[[1.0, 10.0]], [[3.0, 10.0]]]], dtype=torch.float64)  # [1,2,1,2]
    Ssum = S.eds_sum(d)  # (4, 20)
    assert torch.allclose(Ssum, torch.tensor([[[4.0, 20.0]]], dtype=torch.float64))
    assert torch.allclose(S.eds_fixed(Ssum, 16.0), torch.tensor([[[0.75, 0.0]]], dtype=torch.float64))
    assert torch.allclose(S.eds_image(Ssum), torch.tensor([[[0.8, 0.0]]], dtype=torch.float64))
    # scaled between the floor and sMax: (16 - 4) / (16 - 2) and 0
    assert torch.allclose(S.eds_fixed(Ssum, 16.0, 2.0), torch.tensor([[[12 / 14, 0.0]]], dtype=torch.float64))
    p0 = 1 / (1 + math.exp(-2))  # softmax(-1, -3) max
    mm = S.mmsp(d)[0, 0]
    assert abs(mm[0].item() - (1 - p0)) < 1e-12 and abs(mm[1].item() - 0.5) < 1e-12
    pe = S.eds_fixed(Ssum, 16.0)
    comb = S.combined(pe, d)[0, 0]
    a0 = 1 / (1 + math.exp(-20 * (0.75 - 0.8)))
    a1 = 1 / (1 + math.exp(-20 * (0.0 - 0.8)))
    assert abs(comb[0].item() - (a0 * 0.75 + (1 - a0) * (1 - p0))) < 1e-12
    assert abs(comb[1].item() - (a1 * 0.0 + (1 - a1) * 0.5)) < 1e-12
    z = torch.tensor([[[[2.0]], [[0.0]], [[-1.0]]]], dtype=torch.float64)
    e = np.exp([2.0, 0.0, -1.0])
    assert abs(S.msp(z).item() - (1 - e[0] / e.sum())) < 1e-12
    assert S.maxlogit(z).item() == -2.0
    # margin g = mean d - min d: (1 + 3)/2 - 1 = 1 and 0; score 1 - min(g, gMax)/gMax with gMax 4
    assert torch.allclose(S.margin_gap(d), torch.tensor([[[1.0, 0.0]]], dtype=torch.float64))
    assert torch.allclose(S.margin(d, 4.0), torch.tensor([[[0.75, 1.0]]], dtype=torch.float64))
    assert S.margin(d * 10, 4.0)[0, 0, 0].item() == 0.0  # margins beyond gMax clip to "surely known"


def test_margin_ranks_pixels_as_mmsp_at_a_large_temperature():
    g = torch.Generator().manual_seed(3)
    d = 20 * torch.rand(1, 9, 1, 400, generator=g, dtype=torch.float64)
    tau = 1e6  # the ranking converges as tau grows (1e4 still swaps a few near ties)
    limit = S.mmsp(d / tau)[0, 0]
    margin = S.margin(d, 1e9)[0, 0]
    assert torch.equal(torch.argsort(limit), torch.argsort(margin))
    # and at T = 1 it does not: MMSP saturates where one distance is far below the others
    assert not torch.equal(torch.argsort(S.mmsp(d)[0, 0]), torch.argsort(margin))
