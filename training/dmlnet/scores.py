"""Pixel OOD scores. Convention: every score is oriented so that HIGHER = MORE LIKELY UNKNOWN.

Metric models (squared distances d_t = ||f - m_t||^2, p_t = softmax_t(-d_t)):
  eds       P_EDS = (sMax - min(S, sMax)) / (sMax - sFloor) with S = sum_t d_t, a fixed sMax calibrated on
            train pixels and sFloor = sum_t ||m_t - mean(m)||^2, the smallest S any embedding can have (at
            the prototypes' centroid; (K-1)T^2 for fixed prototypes). The paper's 1 - S/max(S) never gets
            near 1 with a fixed scale (S >= sFloor), so alpha below would stay ~0 and combined = MMSP.
  eds_image P_EDS = 1 - S / max_image(S)     (the paper's per-image normalisation)
  mmsp      1 - max_t p_t
  combined  alpha * P_EDS + (1 - alpha) * (1 - max_t p_t), alpha = sigmoid(beta (P_EDS - gamma)),
            beta = 20, gamma = 0.8 (with the fixed-scale P_EDS; combined_image uses eds_image)
  mindist   min_t d_t   (nearest-prototype distance)
  margin    1 - min(g, gMax) / gMax with the margin g = mean_t d_t - min_t d_t: how much nearer the nearest
            prototype is than the average one, and gMax calibrated on train pixels. Ranks pixels as MMSP does in
            the limit of a large softmax temperature (1 - max_t softmax_t(-d / tau) ~ (K - 1 - g / tau) / K), so
            it keeps MMSP's comparison of the classes without its saturation: with T = 3 a known pixel's MMSP is
            almost always ~0. With fixed prototypes g = 2T (max_t f_t - mean_t f_t), a centred max logit.
Linear baseline (logits z):
  msp       1 - max softmax(z)
  maxlogit  -max_t z_t
  margin    as above with d = -z: g = max_t z_t - mean_t z_t, the max logit centred over the classes
"""
from __future__ import annotations

import torch

BETA = 20.0
GAMMA = 0.8


def eds_sum(d):
    return d.sum(1)


def eds_floor(prototypes):
    """The smallest S = sum_t ||f - m_t||^2 over all f: reached at the prototypes' centroid."""
    return float(((prototypes - prototypes.mean(0)) ** 2).sum())


def eds_fixed(S, smax, sfloor=0.0):
    return ((smax - S.clamp(max=smax)) / (smax - sfloor)).clamp(0.0, 1.0)


def eds_image(S):
    mx = S.flatten(1).max(1).values.clamp_min(1e-12).view(-1, *([1] * (S.dim() - 1)))
    return 1.0 - S / mx


def mmsp(d):
    return 1.0 - torch.softmax(-d, dim=1).max(1).values


def margin_gap(d):
    return d.mean(1) - d.min(1).values


def margin(d, gmax):
    return 1.0 - margin_gap(d).clamp(max=gmax) / gmax


def combined(p_eds, d, beta=BETA, gamma=GAMMA):
    alpha = torch.sigmoid(beta * (p_eds - gamma))
    return alpha * p_eds + (1 - alpha) * mmsp(d)


def msp(logits):
    return 1.0 - torch.softmax(logits, dim=1).max(1).values


def maxlogit(logits):
    return -logits.max(1).values


METRIC_SCORES = ("eds", "eds_image", "mmsp", "combined", "combined_image", "mindist", "margin")
LINEAR_SCORES = ("msp", "maxlogit", "margin")


def metric_scores(d, smax, sfloor=0.0, gmax=1.0):
    """d [B,K,H,W] squared distances -> dict of [B,H,W] scores."""
    S = eds_sum(d)
    pe = eds_fixed(S, smax, sfloor)
    pi = eds_image(S)
    return {
        "eds": pe,
        "eds_image": pi,
        "mmsp": mmsp(d),
        "combined": combined(pe, d),
        "combined_image": combined(pi, d),
        "mindist": d.min(1).values,
        "margin": margin(d, gmax),
    }


def linear_scores(logits, gmax=1.0):
    return {"msp": msp(logits), "maxlogit": maxlogit(logits), "margin": margin(-logits, gmax)}
