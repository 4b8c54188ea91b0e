import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { readModelReport } from '../../src-main/evaluation/index.js';
import { figure } from '../../src-main/evaluation/report.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, valImages, valLabels } from '../helpers/clips.js';
import { evalArgs, testModelsDir } from '../helpers/models.js';

// `eval --report` on real CamVid val images through the open-set model (pedestrian and bicyclist unknown): one
// run prints `--json` and writes the report, whose figures must be the printed ones.
const MODEL = 'camvid-open';

interface Report {
  summary: Record<string, unknown>;
  plots: { file: string; title: string }[];
  images: { rank: string; files: Record<string, string>; aupr: number }[];
  pixelCurve: { tpr: number; fpr: number; precision: number }[];
  histogram: { known: number[]; unknown: number[] };
  componentCurve: { f1: number | null }[] | null;
}

test(
  'eval --report writes SVG plots, image panels, report.json and one offline page with the --json figures',
  { timeout: 600_000 },
  async () => {
    assert.ok(existsSync(join(testModelsDir, `${MODEL}.json`)), `${MODEL} is shipped in ${testModelsDir}`);
    const work = tempDir('dml-eval-report-');
    const [images, labels] = [join(work, 'images'), join(work, 'labels')];
    mkdirSync(images);
    mkdirSync(labels);
    // Six frames spread over the val drive, linked (not copied) from the shared dataset.
    const files = readdirSync(valImages).sort();
    for (const file of [0, 20, 40, 60, 80, 100].map((i) => files[i]!)) {
      symlinkSync(join(valImages, file), join(images, file));
      const label = `${file.replace(/\.[^.]+$/, '')}.png`;
      symlinkSync(join(valLabels, label), join(labels, label));
    }
    // Written where the app looks for a model's report: <models>/reports/<name>.
    const dir = join(work, 'models', 'reports', MODEL);
    const run = await runCli(
      evalArgs(MODEL, images, labels, 'camvid', '--csv', join(work, 'rows.csv'), '--report', dir, '--json'),
      { timeoutMs: 540_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, number | null>;
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    assert.deepEqual(report.summary, printed, 'report.json holds exactly what --json printed');

    for (const file of ['index.html', 'roc.svg', 'pr.svg', 'components-pr.svg', 'iou.svg', 'histogram.svg'])
      assert.ok(existsSync(join(dir, file)), file);
    assert.deepEqual(report.plots.map((plot) => plot.file).sort(), [
      'components-pr.svg',
      'histogram.svg',
      'iou.svg',
      'pr.svg',
      'roc.svg',
    ]);
    const roc = readFileSync(join(dir, 'roc.svg'), 'utf8');
    assert.match(roc, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(roc.includes(`AUROC ${figure(printed.auroc)}, FPR95 ${figure(printed.fpr95)}`), 'ROC title');
    assert.ok(readFileSync(join(dir, 'pr.svg'), 'utf8').includes(`AUPR ${figure(printed.aupr)}`), 'PR title');
    assert.ok(readFileSync(join(dir, 'iou.svg'), 'utf8').includes(`mIoU ${figure(printed.miou)}`), 'IoU title');

    // The page shows every figure as --json has it, and loads nothing from anywhere.
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const cells = [...html.matchAll(/<td data-key="(\w+)">([^<]*)<\/td>/g)];
    assert.equal(cells.length, 12);
    for (const [, key, shown] of cells) assert.equal(shown, figure(printed[key!]), key);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);

    // The drawn ROC curve is the one AUROC comes from: its area matches to the sampling step.
    let area = 0;
    let [lastFpr, lastTpr] = [0, 0];
    for (const { fpr, tpr } of report.pixelCurve) {
      area += ((fpr - lastFpr) * (tpr + lastTpr)) / 2;
      [lastFpr, lastTpr] = [fpr, tpr];
    }
    assert.ok(Math.abs(100 * area - printed.auroc!) < 0.5, `curve area ${100 * area} vs AUROC ${printed.auroc}`);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum(report.histogram.known) - 1) < 1e-9 && Math.abs(sum(report.histogram.unknown) - 1) < 1e-9);
    const f1 = report.componentCurve!.map((point) => point.f1!);
    assert.ok(
      Math.abs((100 * sum(f1)) / f1.length - printed.mean_f1!) < 1e-9,
      'component F1 per threshold means mean_f1',
    );

    assert.equal(report.images.filter((image) => image.rank === 'best').length, 3);
    assert.equal(report.images.filter((image) => image.rank === 'worst').length, 3);
    const [best, worst] = [report.images[0]!, report.images.at(-1)!];
    assert.ok(best.aupr >= worst.aupr);
    for (const image of report.images)
      for (const file of Object.values(image.files)) {
        const png = PNG.sync.read(readFileSync(join(dir, file)));
        assert.deepEqual([png.width, png.height], [480, 360], file);
      }

    // The app's model screen reads the same figures and plots back.
    const stored = await readModelReport(join(work, 'models'), MODEL);
    assert.ok(stored.found);
    for (const { key, value } of stored.figures) assert.equal(value, printed[key], key);
    assert.deepEqual(
      stored.plots.map((plot) => plot.svg),
      report.plots.map((plot) => readFileSync(join(dir, plot.file), 'utf8')),
    );
    assert.deepEqual(await readModelReport(join(work, 'models'), 'camvid-none'), {
      found: false,
      folder: join(work, 'models', 'reports', 'camvid-none'),
    });

    const again = await runCli(evalArgs(MODEL, images, labels, 'camvid', '--report', dir));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /--report .* already exists/);
  },
);
