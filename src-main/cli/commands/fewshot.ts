import { basename, dirname, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { runFewshot, type FewshotReport, type ModelRef } from '../../evaluation/index.js';
import type { ScoreName } from '../../engine/index.js';
import { DEFAULT_RADIUS_RULE, DMLNET_RADIUS_RULE, type RadiusRule } from '../../teaching/prototypes.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { requireModelCard } from '../../engine/model-list.js';

/** models/NAME.onnx (or models/NAME) -> the folder and the card name. */
function modelRef(path: string): ModelRef {
  return { modelsDir: dirname(resolve(path)), name: basename(path).replace(/\.(onnx|json)$/, '') };
}

function radiusRule(value: string | undefined): RadiusRule {
  if (value === undefined || value === 'fit') return DEFAULT_RADIUS_RULE;
  if (value === 'dmlnet') return DMLNET_RADIUS_RULE;
  if (value === 'spread') return { kind: 'spread', percentile: 95, scale: 1 };
  const spread = /^p(\d+(?:\.\d+)?)(?:x(\d+(?:\.\d+)?))?$/.exec(value);
  if (spread) return { kind: 'spread', percentile: Number(spread[1]), scale: Number(spread[2] ?? 1) };
  const fixed = Number(value);
  if (Number.isFinite(fixed) && fixed > 0) return { kind: 'fixed', squaredDistance: fixed };
  throw new AppError(
    'usage',
    `--radius must be fit, spread, dmlnet, pNN[xS] (percentile, scale) or a squared distance, got "${value}"`,
  );
}

function printTable(report: FewshotReport): void {
  const lines = [
    `model ${report.model} (sha256 ${report.model_sha256.slice(0, 12)}), taught ${report.taught.join(', ')} from ${report.shots} shot(s), ${report.val_frames} val frames`,
    `radius: ${report.radius_rule}; prototypes per class: ${report.prototypes_per_class}`,
    `novel mIoU ${report.novel_miou}  old mIoU ${report.old_miou} (before teaching ${report.old_miou_before})  all mIoU ${report.all_miou}`,
    ...Object.entries(report.per_class).map(
      ([name, iou]) =>
        `  ${name.padEnd(12)} ${String(iou).padStart(6)}${report.per_class_before[name] === undefined ? '  (taught)' : `  before ${report.per_class_before[name]}`}`,
    ),
    ...Object.entries(report.unknown).map(
      ([name, roc]) => `still unknown ${name}: AUROC ${roc.auroc}  FPR95 ${roc.fpr95}`,
    ),
    ...(report.upper_bound
      ? [
          `upper bound ${report.upper_bound.model}: ${Object.entries(report.upper_bound.novel_ratio)
            .map(
              ([name, ratio]) =>
                `${name} IoU ${report.upper_bound!.per_class[name]} (taught reaches ${ratio === null ? 'n/a' : `${Math.round(ratio * 100)}%`})`,
            )
            .join(', ')}`,
        ]
      : []),
    `${report.seconds} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export const fewshotCommand: CliCommand = {
  name: 'fewshot',
  summary: 'Few-shot benchmark: teach unknown classes from K train frames, measure mIoU on val',
  usage:
    'fewshot --model models/NAME.onnx --train DIR --val DIR --teach a[,b] --shots K [--prototypes 1..3] [--radius fit|spread|dmlnet|pNN[xS]|D] [--score eds|mmsp|combined|margin] [--upper-bound models/NAME.onnx] [--val-limit N] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      model: { type: 'string' },
      train: { type: 'string' },
      val: { type: 'string' },
      teach: { type: 'string' },
      shots: { type: 'string' },
      prototypes: { type: 'string' },
      radius: { type: 'string' },
      'upper-bound': { type: 'string' },
      score: { type: 'string' },
      'val-limit': { type: 'string' },
      json: { type: 'boolean' },
    });
    const missing = (['model', 'train', 'val', 'teach', 'shots'] as const).filter((name) => !values[name]);
    if (missing.length)
      throw new AppError(
        'usage',
        `Missing ${missing.map((name) => `--${name}`).join(', ')}. Usage: dmlreview ${this.usage}`,
      );
    const shots = numberFlag('shots', values.shots, 1);
    const prototypesPerClass = numberFlag('prototypes', values.prototypes, 1);
    if (!Number.isInteger(shots) || shots < 1 || shots > 20)
      throw new AppError('usage', `--shots must be a whole number from 1 to 20, got ${values.shots}`);
    if (![1, 2, 3].includes(prototypesPerClass))
      throw new AppError('usage', `--prototypes must be 1, 2 or 3, got ${values.prototypes}`);
    const valLimit = values['val-limit'] === undefined ? undefined : numberFlag('val-limit', values['val-limit'], 0);
    const model = modelRef(values.model!);
    const upperBound = values['upper-bound'] ? modelRef(values['upper-bound']) : undefined;
    for (const ref of [model, upperBound]) if (ref) await requireModelCard(ref.modelsDir, ref.name);
    const report = await runFewshot({
      model,
      trainDir: resolve(values.train!),
      valDir: resolve(values.val!),
      teach: values
        .teach!.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      shots,
      prototypesPerClass,
      radius: radiusRule(values.radius),
      ...(values.score ? { score: values.score as ScoreName } : {}),
      ...(upperBound ? { upperBound } : {}),
      ...(valLimit ? { valLimit } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (values.json) printJson(report);
    else printTable(report);
  },
};
