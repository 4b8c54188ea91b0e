import { AppError } from '../core/errors.js';
import type { ModelCard } from '../engine/index.js';

/** Relabelled ground truth: known class index, or one of these. */
export const OOD_LABEL = 254;
export const IGNORE_LABEL = 255;

export type LabelFormat = 'camvid' | 'anomaly';

export interface LabelMapping {
  /** Raw label value -> evaluation class index, OOD_LABEL or IGNORE_LABEL. */
  lut: Uint8Array;
  /** The classes mIoU is computed over: the model's own, or the labels' coarser ones (evaluationGroups). */
  classes: string[];
  /** Model class index -> evaluation class index, where the labels' classes are coarser than the model's. */
  predictionLut?: Uint8Array;
  /** Whether labels name the model's classes (mIoU and accuracy make sense). */
  hasClasses: boolean;
  /** Names scored as OOD (camvid) or the raw OOD ids (anomaly), for the report. */
  ood: string[];
}

/**
 * CamVid layout: label value = the card's datasetId. Classes named in `unknown` (default: the card's
 * unknownClasses) are OOD; the dataset's ignore id and ids the card does not name are ignored. A known
 * class named in `unknown` is scored as OOD and left out of mIoU.
 */
export function camvidMapping(card: ModelCard, unknown: string[] | undefined): LabelMapping {
  if (card.evaluationGroups?.dataset === 'CamVid') return groupedMapping(card, card.evaluationGroups, unknown ?? []);
  const names = unknown ?? card.unknownClasses.map((cls) => cls.name);
  const all = [...card.classes, ...card.unknownClasses];
  for (const name of names) {
    if (!all.some((cls) => cls.name === name)) {
      throw new AppError(
        'eval_class_unknown',
        `--unknown ${name}: model ${card.name} has no such class (${all.map((cls) => cls.name).join(', ')})`,
      );
    }
  }
  const lut = new Uint8Array(256).fill(IGNORE_LABEL);
  for (const cls of card.classes) if (cls.datasetId >= 0 && cls.datasetId < 256) lut[cls.datasetId] = cls.index;
  for (const cls of all)
    if (names.includes(cls.name) && cls.datasetId >= 0 && cls.datasetId < 256) lut[cls.datasetId] = OOD_LABEL;
  if (card.dataset.ignoreIndex >= 0 && card.dataset.ignoreIndex < 256) lut[card.dataset.ignoreIndex] = IGNORE_LABEL;
  return { lut, classes: card.classes.map((cls) => cls.name), hasClasses: true, ood: names };
}

/**
 * CamVid labels for a model of finer classes: label value = a group's datasetId, and a prediction counts for
 * the group that holds its class (a truck is a CamVid car). Groups named in `unknown` are OOD.
 */
function groupedMapping(
  card: ModelCard,
  grouping: NonNullable<ModelCard['evaluationGroups']>,
  unknown: string[],
): LabelMapping {
  const groups = grouping.groups.filter((group) => !unknown.includes(group.name));
  for (const name of unknown) {
    if (!grouping.groups.some((group) => group.name === name))
      throw new AppError(
        'eval_class_unknown',
        `--unknown ${name}: ${grouping.dataset} has no such class for model ${card.name} (${grouping.groups.map((group) => group.name).join(', ')})`,
      );
  }
  const lut = new Uint8Array(256).fill(IGNORE_LABEL);
  const predictionLut = new Uint8Array(256).fill(IGNORE_LABEL);
  groups.forEach((group, index) => {
    lut[group.datasetId] = index;
    for (const name of group.classes) predictionLut[card.classes.find((cls) => cls.name === name)!.index] = index;
  });
  for (const group of grouping.groups) if (unknown.includes(group.name)) lut[group.datasetId] = OOD_LABEL;
  lut[grouping.ignoreIndex] = IGNORE_LABEL;
  return { lut, classes: groups.map((group) => group.name), predictionLut, hasClasses: true, ood: unknown };
}

/** Binary anomaly layout (Road Anomaly, Fishyscapes, SegmentMeIfYouCan): OOD ids, void ids, everything else in-distribution. */
export function anomalyMapping(oodIds: number[], ignoreIds: number[]): LabelMapping {
  const lut = new Uint8Array(256).fill(0);
  for (const id of oodIds) lut[id] = OOD_LABEL;
  for (const id of ignoreIds) lut[id] = IGNORE_LABEL;
  // In-distribution pixels carry no class: index 0 stands for "known" and is never scored for mIoU.
  return { lut, classes: [], hasClasses: false, ood: oodIds.map(String) };
}
