"""Metric-space classifiers on top of the network output.

* ``FixedPrototypes``: DMLNet's prototypes m_t = T * e_t (T = 3), embedding size = number of classes.
* ``LearnedCentres``: learnable class centres trained with Circle loss; the network emits
  ``scale * f/|f|`` and the prototypes are ``scale * c/|c|`` so that squared Euclidean distance
  (what the app computes) is ``2 scale^2 (1 - cos)``.
* ``LinearHead``: the network output already is the logits (baseline).
"""
from __future__ import annotations

import torch
import torch.nn as nn


def sq_distances(f, protos):
    """f [B,D,H,W], protos [K,D] -> squared Euclidean distances [B,K,H,W]."""
    ff = (f * f).sum(1, keepdim=True)
    pp = (protos * protos).sum(1).view(1, -1, 1, 1)
    fp = torch.einsum("bdhw,kd->bkhw", f, protos)
    return (ff - 2 * fp + pp).clamp_min(0)


class FixedPrototypes(nn.Module):
    type = "fixed-prototypes"

    def __init__(self, num_classes, T=3.0):
        super().__init__()
        self.register_buffer("protos", T * torch.eye(num_classes))

    def prototypes(self):
        return self.protos

    def logits(self, f):
        return -sq_distances(f, self.prototypes())


class LearnedCentres(nn.Module):
    type = "learned-centres"

    def __init__(self, num_classes, dim, scale):
        super().__init__()
        g = torch.Generator().manual_seed(1234)
        self.centres = nn.Parameter(torch.randn(num_classes, dim, generator=g))
        self.scale = float(scale)

    def prototypes(self):
        c = self.centres
        return self.scale * c / c.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def logits(self, f):
        return -sq_distances(f, self.prototypes())

    def cosines(self, f):
        """cosine similarity of (already normalised*scale) embeddings to the centres [B,K,H,W]."""
        c = self.centres / self.centres.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return torch.einsum("bdhw,kd->bkhw", f / self.scale, c)


class LinearHead(nn.Module):
    type = "linear"

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes

    def prototypes(self):
        return None

    def logits(self, f):
        return f


def make_head(kind, num_classes, dim=None, T=3.0, scale=None):
    if kind == "fixed-prototypes":
        return FixedPrototypes(num_classes, T)
    if kind == "learned-centres":
        return LearnedCentres(num_classes, dim, scale)
    if kind == "linear":
        return LinearHead(num_classes)
    raise ValueError(f"unknown head {kind!r} (fixed-prototypes, learned-centres, linear)")
