/**
 * Confusion matrix of known classes: rows = ground truth, columns = prediction, plus one last column for
 * predictions outside the evaluated classes (a model class whose label group is scored as OOD): a miss for
 * the pixel's true class, a hit for none.
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;
  private readonly columns: number;

  constructor(readonly classCount: number) {
    this.columns = classCount + 1;
    this.counts = new Float64Array(classCount * this.columns);
  }

  /** truth: class index per pixel, or any value >= classCount to skip the pixel; prediction >= classCount: outside. */
  add(truth: Uint8Array, prediction: Uint8Array): void {
    const k = this.classCount;
    for (let p = 0; p < truth.length; p++) {
      const t = truth[p]!;
      if (t < k) this.counts[t * this.columns + Math.min(prediction[p]!, k)]!++;
    }
  }

  /** IoU and accuracy (recall) per class in percent, null for classes absent from both truth and prediction; mIoU over the rest; pixel accuracy. */
  result(): { miou: number | null; acc: number; iou: (number | null)[]; classAcc: (number | null)[] } {
    const k = this.classCount;
    const iou: (number | null)[] = [];
    const classAcc: (number | null)[] = [];
    let correct = 0;
    let total = 0;
    for (let c = 0; c < k; c++) {
      let truthCount = this.counts[c * this.columns + k]!;
      let predictedCount = 0;
      for (let other = 0; other < k; other++) {
        truthCount += this.counts[c * this.columns + other]!;
        predictedCount += this.counts[other * this.columns + c]!;
      }
      const hits = this.counts[c * this.columns + c]!;
      const union = truthCount + predictedCount - hits;
      iou.push(union > 0 ? (100 * hits) / union : null);
      classAcc.push(truthCount > 0 ? (100 * hits) / truthCount : null);
      correct += hits;
      total += truthCount;
    }
    const present = iou.filter((value): value is number => value !== null);
    return {
      miou: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null,
      acc: (100 * correct) / Math.max(1, total),
      iou,
      classAcc,
    };
  }
}
