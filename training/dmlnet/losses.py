"""Training losses: DCE + lambda*VL (DMLNet), Circle loss (learned centres), cross-entropy (baseline)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import IGNORE
from .heads import sq_distances


def _clean(labels, k):
    """Held-out (OOD) and void pixels -> IGNORE."""
    labels = labels.long()
    return torch.where((labels >= 0) & (labels < k), labels, torch.full_like(labels, IGNORE))


def dce_vl_loss(f, labels, protos, lam=0.01):
    """Distance-based cross-entropy + lam * variance loss.

    logits_t = -||f - m_t||^2;  DCE = mean over valid pixels of -log softmax(logits)_y;
    VL = mean over valid pixels of ||f - m_y||^2.  Returns (total, dce, vl)."""
    k = protos.shape[0]
    labels = _clean(labels, k)
    d = sq_distances(f, protos)
    dce = F.cross_entropy(-d, labels, ignore_index=IGNORE)
    valid = labels != IGNORE
    if valid.any():
        dy = d.gather(1, labels.clamp_max(k - 1).unsqueeze(1)).squeeze(1)
        vl = dy[valid].mean()
    else:
        vl = d.sum() * 0
    return dce + lam * vl, dce, vl


def circle_loss(cos, labels, m=0.25, gamma=64.0):
    """Circle loss (Sun et al., CVPR 2020), class-level form, one positive (the pixel's centre).

    cos [B,K,H,W] cosine similarities to the class centres. Returns mean over valid pixels of
    softplus( logsumexp_n(gamma*a_n*(s_n - m)) + gamma*(-a_p)*(s_p - (1-m)) ),
    a_p = [1 + m - s_p]_+, a_n = [s_n + m]_+ (weights detached)."""
    k = cos.shape[1]
    labels = _clean(labels, k)
    s = cos.permute(0, 2, 3, 1).reshape(-1, k)
    y = labels.reshape(-1)
    valid = y != IGNORE
    if not valid.any():
        return cos.sum() * 0
    s, y = s[valid], y[valid]
    onehot = F.one_hot(y, k).bool()
    sp = s[onehot]
    ap = (1 + m - sp).clamp_min(0).detach()
    an = (s + m).clamp_min(0).detach()
    logit_p = -gamma * ap * (sp - (1 - m))
    logit_n = gamma * an * (s - m)
    logit_n = logit_n.masked_fill(onehot, float("-inf"))
    return F.softplus(torch.logsumexp(logit_n, dim=1) + logit_p).mean()


def ce_loss(logits, labels):
    return F.cross_entropy(logits, _clean(labels, logits.shape[1]), ignore_index=IGNORE)
