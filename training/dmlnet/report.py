"""The text table of an evaluation result (dmlnet.evaluation.evaluate), as training and dmlnet.evaluate print it."""
from __future__ import annotations


def _cell(x):
    return f"{x:8.2f}" if x is not None else f"{'-':>8}"


def format_table(res):
    lines = [f"split={res['split']} images={res['images']} unknown={','.join(res['unknown']) or '-'}",
             f"mIoU {res['miou']:.2f}  acc {res['acc']:.2f}"]
    if res["ood"]:
        lines.append(f"{'score':<16}{'AUROC':>8}{'AUPR':>8}{'FPR95':>8} | {'AUROC/i':>8}{'AUPR/i':>8}{'FPR95/i':>8}")
        for k, r in res["ood"].items():
            lines.append(f"{k:<16}{_cell(r['auroc'])}{_cell(r['aupr'])}{_cell(r['fpr95'])} | "
                         f"{_cell(r['auroc_image'])}{_cell(r['aupr_image'])}{_cell(r['fpr95_image'])}")
        lines.append(f"components (SegmentMeIfYouCan) at the best pixel F1: {'score':<16}{'pixF1':>8}{'sIoU':>8}"
                     f"{'PPV':>8}{'mF1':>8}")
        for k, r in res["ood"].items():
            lines.append(f"{'':<51}{k:<16}{_cell(r.get('pixel_f1'))}{_cell(r.get('siou'))}{_cell(r.get('ppv'))}"
                         f"{_cell(r.get('mean_f1'))}")
    lines.append("per-class IoU: " + ", ".join(f"{n} {v:.1f}" if v is not None else f"{n} -"
                                               for n, v in res["perClassIoU"].items()))
    return "\n".join(lines)
