import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { defaultModelsDir } from '../../core/paths.js';
import type { ScoreName } from '../../engine/index.js';
import { requireModelCard } from '../../engine/model-list.js';
import { writeFolderAtomically } from '../../export/index.js';
import {
  evaluationJson,
  evaluationTable,
  perImageCsv,
  runEvaluation,
  writeEvaluationReport,
} from '../../evaluation/index.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';

const SCORES: ScoreName[] = ['eds', 'mmsp', 'combined', 'margin', 'msp', 'maxlogit'];

/** models/NAME.onnx or models/NAME.json -> (models, NAME); a bare NAME means the shipped models folder. */
function modelLocation(value: string): { modelsDir: string; name: string } {
  const extension = extname(value).toLowerCase();
  if (extension === '.onnx' || extension === '.json')
    return { modelsDir: dirname(resolve(value)), name: basename(value, extname(value)) };
  return { modelsDir: defaultModelsDir(), name: value };
}

function idList(flag: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((part) => {
    const id = Number(part.trim());
    if (!Number.isInteger(id) || id < 0 || id > 255)
      throw new AppError('usage', `--${flag} takes label ids 0..255 separated by commas, got "${value}"`);
    return id;
  });
}

function required(flag: string, value: string | undefined): string {
  if (!value) throw new AppError('usage', `--${flag} is required. Usage: dmlreview ${evalCommand.usage}`);
  return value;
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary:
    'Evaluate a model on labelled images: AUROC, AUPR, FPR95 (pooled and per image), mIoU and accuracy per class',
  usage:
    'eval --model models/NAME.onnx --images DIR --labels DIR --format camvid|anomaly [--unknown a,b] [--ood-ids 1,2] ' +
    '[--ignore-ids 255] [--score eds|mmsp|combined|margin|msp|maxlogit] [--csv FILE] [--report DIR] [--threads N] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      model: { type: 'string' },
      images: { type: 'string' },
      labels: { type: 'string' },
      format: { type: 'string', default: 'camvid' },
      unknown: { type: 'string' },
      'ood-ids': { type: 'string' },
      'ignore-ids': { type: 'string' },
      score: { type: 'string' },
      csv: { type: 'string' },
      report: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.format !== 'camvid' && values.format !== 'anomaly')
      throw new AppError('usage', `--format must be camvid or anomaly, got "${values.format}"`);
    if (values.score !== undefined && !SCORES.includes(values.score as ScoreName)) {
      throw new AppError('usage', `--score must be one of ${SCORES.join(', ')}, got "${values.score}"`);
    }
    const { modelsDir, name } = modelLocation(required('model', values.model));
    await requireModelCard(modelsDir, name);
    if (values.report !== undefined && existsSync(values.report))
      throw new AppError(
        'export_target_exists',
        `--report ${values.report} already exists: the report goes into a new folder, name another one`,
      );
    const result = await runEvaluation({
      modelsDir,
      model: name,
      images: required('images', values.images),
      labels: required('labels', values.labels),
      format: values.format,
      unknown: values.unknown
        ?.split(',')
        .map((part) => part.trim())
        .filter(Boolean),
      oodIds: idList('ood-ids', values['ood-ids']),
      ignoreIds: idList('ignore-ids', values['ignore-ids']),
      score: values.score as ScoreName | undefined,
      threads: values.threads === undefined ? undefined : numberFlag('threads', values.threads, 2),
      details: values.report !== undefined,
      onImage: (done, total) => {
        if (done % 10 === 0 || done === total) process.stderr.write(`eval: ${done}/${total} images\n`);
      },
    });
    const csvPath = resolve(values.csv ?? `eval-${name}-${result.score}.csv`);
    writeFileSync(csvPath, perImageCsv(result));
    process.stdout.write(evaluationTable(result));
    process.stdout.write(`per-image CSV: ${csvPath}\n`);
    if (values.report !== undefined) {
      const target = resolve(values.report);
      // models/reports/NAME is where the app looks, and models/reports need not exist yet.
      mkdirSync(dirname(target), { recursive: true });
      const report = await writeFolderAtomically(dirname(target), basename(target), (put) =>
        writeEvaluationReport(put, result),
      );
      process.stdout.write(`report: ${join(report.path, 'index.html')}\n`);
    }
    if (values.json) printJson(evaluationJson(result));
  },
};
