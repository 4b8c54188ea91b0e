/**
 * Engine speed, side by side in one run (`npm run bench`): the ONNX model alone, the full engine
 * (pre-processing + model + metric head + summary + both PNG maps), the same weights in PyTorch eager
 * (training/tools/bench_torch.py), at 1 and 2 threads; stage times; the head (WebAssembly kernel) against the
 * same head as an ONNX graph; model FLOPs and the fraction of this CPU's peak.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-node';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import {
  decodeImageFile,
  DEFAULT_MODEL,
  encodeClassMapPng,
  encodeOodMapPng,
  listModels,
  openEngine,
  readModelCard,
  type Engine,
  type ModelCard,
  type RgbFrame,
} from '../src-main/engine/index.js';
import { headSettings, MetricHead } from '../src-main/engine/metric-head.js';
import { OnnxModel } from '../src-main/engine/onnx-model.js';
import { Preprocessor } from '../src-main/engine/preprocess.js';
import { describeRegions, prototypeSpacing } from '../src-main/engine/descriptors.js';
import { summarizeFrame } from '../src-main/engine/summary.js';
import { regionPlaces } from '../src-main/engine/unknown-regions.js';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 5);
/** ONNX model, engine and PyTorch are timed in turn, ROUNDS times; medians are reported (the machine is shared). */
const ROUNDS = 3;
/** Model threads in all, and lanes (frames analysed side by side, each with threads / lanes model threads). */
const CONFIGS = [
  { threads: 1, lanes: 1 },
  { threads: 2, lanes: 1 },
  { threads: 2, lanes: 2 },
];
const PYTHON = '/usr/bin/python3';
/** The Python tools run as modules (`python3 -m tools.NAME`) from here, where `dmlnet` imports without installing. */
const trainingDir = () => join(packageRoot(), 'training');

async function msPerFrame(work: () => unknown): Promise<number> {
  await work();
  const start = performance.now();
  for (let i = 0; i < FRAMES; i++) await work();
  return (performance.now() - start) / FRAMES;
}

/**
 * Engine throughput, ms per frame, with up to `inFlight` frames submitted at once (as an analysis job does);
 * FRAMES per frame in flight, so that filling and draining the pipeline weigh the same at every depth.
 */
export async function engineMsPerFrame(engine: Engine, frame: RgbFrame, inFlight: number): Promise<number> {
  const analyseAndEncode = () => engine.analyze(frame, { encodeMaps: true });
  await Promise.all(Array.from({ length: inFlight }, analyseAndEncode));
  const frames = FRAMES * inFlight;
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < frames; i++) {
    pending.push(analyseAndEncode());
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  return (performance.now() - start) / frames;
}

async function benchModelName(modelsDir: string): Promise<string> {
  if (process.env.BENCH_MODEL) return process.env.BENCH_MODEL;
  const ok = (await listModels(modelsDir)).filter((model) => model.status === 'ok');
  const chosen = ok.find((model) => model.name === DEFAULT_MODEL) ?? ok[0];
  if (!chosen) throw new Error(`No usable model in ${modelsDir}`);
  return chosen.name;
}

/** The first CamVid val frame when the dataset is beside the repo, else a gradient at the model's input size. */
export async function benchFrame(card: ModelCard): Promise<RgbFrame> {
  const images = join(packageRoot(), '..', 'shared', 'datasets', 'camvid', 'val', 'images');
  if (existsSync(images)) return decodeImageFile(join(images, readdirSync(images).sort()[0]!));
  const { width, height } = card.input;
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => i % 251) };
}

/**
 * Assumed float32 peak: cores x GHz x FLOP/cycle, GHz as /proc/cpuinfo reports it (no turbo), two FMA units
 * per core: 32 FLOP/cycle with AVX2 (8 lanes), 64 with AVX-512 (16 lanes).
 */
function assumedPeak(threads: number): { gflops: number; ghz: number; flopsPerCycle: number; isa: string } {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const ghz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1] ?? 0) / 1000;
  const avx512 = /\bavx512f\b/.test(cpuinfo);
  const flopsPerCycle = avx512 ? 64 : 32;
  return { gflops: threads * ghz * flopsPerCycle, ghz, flopsPerCycle, isa: avx512 ? 'AVX-512 FMA' : 'AVX2 FMA' };
}

interface TorchTimes {
  networkMs: number;
  networkAndHeadMs: number;
}

/** training/tools/bench_torch.py kept running, so its timings can alternate with ours. */
class TorchBench {
  private readonly child;
  private readonly lines: AsyncIterator<string>;

  constructor(modelsDir: string, name: string) {
    this.child = spawn(PYTHON, ['-m', 'tools.bench_torch', resolve(modelsDir), name], {
      cwd: trainingDir(),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const line = await this.lines.next();
    if (line.done) throw new Error('bench_torch.py stopped early (see its error above)');
    return JSON.parse(line.value) as T;
  }

  measure(threads: number): Promise<TorchTimes> {
    this.child.stdin.write(`${threads} ${FRAMES}\n`);
    return this.next<TorchTimes>();
  }

  close(): void {
    this.child.stdin.end();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** DMLNet's head as an ONNX graph (training/tools/head_graph.py), run by onnxruntime on the model's output. */
async function inGraphHeadMs(card: ModelCard, embedding: ort.Tensor, threads: number): Promise<number> {
  const path = join(mkdtempSync(join(tmpdir(), 'dml-head-')), 'head.onnx');
  const { sMax, sFloor } = card.scores.eds;
  const { beta, gamma } = card.scores.combined;
  const args = [path, card.output.embeddingDim, sMax, sFloor, beta, gamma].map(String);
  execFileSync(PYTHON, ['-m', 'tools.head_graph', ...args], { cwd: trainingDir() });
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, executionProviders: ['cpu'] });
  const prototypes = new ort.Tensor('float32', Float32Array.from(card.head.prototypes!.flat()), [
    card.classes.length,
    card.output.embeddingDim,
  ]);
  const ms = await msPerFrame(() => session.run({ embedding, prototypes }));
  await session.release();
  return ms;
}

interface ThreadFigures {
  threads: number;
  lanes: number;
  modelMs: number;
  /** One frame at a time (latency) and two in flight (throughput, the model of one frame overlapping the head of the other). */
  engineMs: number;
  pipelinedMs: number;
  torch: TorchTimes;
  stages: {
    preprocess: number;
    upsample: number | null;
    head: number;
    headInGraph: number | null;
    summary: number;
    descriptors: number | null;
    maps: number;
  };
}

async function measureThreads(
  modelsDir: string,
  card: ModelCard,
  frame: RgbFrame,
  { threads, lanes }: (typeof CONFIGS)[number],
  torch: TorchBench,
): Promise<ThreadFigures> {
  const model = await OnnxModel.load(modelsDir, card, 'cpu', threads);
  const engine = await openEngine(modelsDir, card.name, { provider: 'cpu', threads, lanes });
  const preprocessor = new Preprocessor(card.input.width, card.input.height, card.input.mean, card.input.std);
  const input = preprocessor.run(frame).slice();
  const rounds: { model: number; engine: number; pipelined: number; torch: TorchTimes }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push({
      model: await msPerFrame(() => model.run(input)),
      engine: await engineMsPerFrame(engine, frame, 1),
      pipelined: await engineMsPerFrame(engine, frame, engine.framesInFlight),
      torch: await torch.measure(threads),
    });
  }
  const output = await model.run(input);
  await model.release();
  await engine.dispose();
  const head = new MetricHead(headSettings(card, card.scores.default, card.scores.threshold, card.onnx));
  // A model of output stride > 1 has its output upsampled to the maps' size first, as the engine does.
  const mapSize = { width: card.input.width, height: card.input.height };
  const coarse = output.width !== mapSize.width || output.height !== mapSize.height;
  const upsample = () => head.upsample(output.data, output, mapSize);
  const full = coarse ? upsample().slice() : output.data;
  const pixels = mapSize.width * mapSize.height;
  const mapped = head.apply(full, pixels);
  const result = { classMap: mapped.classMap, levels: mapped.oodBytes, ...mapSize };
  const embedding = new ort.Tensor('float32', full, [1, output.channels, mapSize.height, mapSize.width]);
  return {
    threads,
    lanes,
    modelMs: median(rounds.map((round) => round.model)),
    engineMs: median(rounds.map((round) => round.engine)),
    pipelinedMs: median(rounds.map((round) => round.pipelined)),
    torch: {
      networkMs: median(rounds.map((round) => round.torch.networkMs)),
      networkAndHeadMs: median(rounds.map((round) => round.torch.networkAndHeadMs)),
    },
    stages: {
      preprocess: await msPerFrame(() => preprocessor.run(frame)),
      upsample: coarse ? await msPerFrame(upsample) : null,
      head: await msPerFrame(() => head.apply(full, pixels)),
      headInGraph: card.output.kind === 'embedding' ? await inGraphHeadMs(card, embedding, threads) : null,
      summary: await msPerFrame(() =>
        summarizeFrame(mapped.classMap, mapped.ood, mapped.tallies, {
          ...mapSize,
          classCount: card.classes.length,
          places: regionPlaces(card.classes),
        }),
      ),
      // Right after the head's runs, as in the head thread: the kernel reads the embedding it has just scored.
      descriptors:
        card.output.kind === 'embedding'
          ? await msPerFrame(() =>
              describeRegions(
                full,
                output.channels,
                mapped.classMap,
                mapped.ood,
                { ...mapSize, scale: prototypeSpacing(card.head.prototypes ?? []) },
                head.kernel,
              ),
            )
          : null,
      maps: await msPerFrame(() => {
        encodeClassMapPng(result);
        encodeOodMapPng(result);
      }),
    },
  };
}

const fps = (ms: number) => (1000 / ms).toFixed(2);
const cell = (text: string | number, width = 12) => String(text).padStart(width);

async function run(): Promise<void> {
  const modelsDir = process.env.BENCH_MODELS ?? defaultModelsDir();
  const name = await benchModelName(modelsDir);
  const card = await readModelCard(modelsDir, name);
  const frame = await benchFrame(card);
  console.log(
    `model ${name}: input ${card.input.width}x${card.input.height}, ${card.output.kind} D=${card.output.embeddingDim}, score ${card.scores.default}; ` +
      `frame ${frame.width}x${frame.height}; median of ${ROUNDS} rounds of ${FRAMES} frames after one warm-up, ORT / engine / PyTorch in turn`,
  );
  const torch = new TorchBench(modelsDir, name);
  const { torch: torchVersion, convMacs } = await torch.next<{ torch: string; convMacs: number }>();
  const figures: ThreadFigures[] = [];
  try {
    for (const config of CONFIGS) figures.push(await measureThreads(modelsDir, card, frame, config, torch));
  } finally {
    torch.close();
  }
  console.log(
    ['threads', 'lanes', 'ORT model', 'engine', 'pipelined', 'torch net', 'torch+head', 'piped/torch', 'outside model']
      .map((title, i) => cell(title, i < 2 ? 7 : 12))
      .join(''),
  );
  for (const figure of figures) {
    const reference = figure.torch;
    console.log(
      cell(figure.threads, 7) +
        cell(figure.lanes, 7) +
        [figure.modelMs, figure.engineMs, figure.pipelinedMs, reference.networkMs, reference.networkAndHeadMs]
          .map((ms) => cell(fps(ms), 12))
          .join('') +
        cell(`${(reference.networkAndHeadMs / figure.pipelinedMs).toFixed(2)}x`, 12) +
        cell(`${((100 * (figure.pipelinedMs - figure.modelMs)) / figure.pipelinedMs).toFixed(1)}%`, 12),
    );
  }
  console.log(
    'frames per second; engine = pre-processing + model + head + summary + both PNG maps, one frame at a time; pipelined = 2 frames in flight per lane;\n' +
      'ORT model = one session with all the threads, one frame at a time; torch+head = PyTorch network + distances, score and nearest class;\n' +
      'piped/torch = pipelined over torch+head; outside model = share of the pipelined frame time not spent in the ORT model (negative: lanes run frames side by side faster than one session)',
  );
  for (const { threads, lanes, modelMs, stages } of figures) {
    const graph = stages.headInGraph === null ? '' : ` (same head as an ONNX graph: ${stages.headInGraph.toFixed(1)})`;
    const described = stages.descriptors === null ? '' : `region descriptors ${stages.descriptors.toFixed(1)}, `;
    const upsampled = stages.upsample === null ? '' : `upsampling to the maps ${stages.upsample.toFixed(1)}, `;
    console.log(
      `stages at ${threads} thread(s), ${lanes} lane(s), ms per frame: preprocess ${stages.preprocess.toFixed(1)}, model ${modelMs.toFixed(1)}, ` +
        `${upsampled}metric head (WebAssembly) ${stages.head.toFixed(1)}${graph}, summary ${stages.summary.toFixed(1)}, ${described}PNG maps ${stages.maps.toFixed(1)}`,
    );
  }
  const gflop = (2 * convMacs) / 1e9;
  console.log(
    `model cost: ${(convMacs / 1e9).toFixed(2)} GMAC = ${gflop.toFixed(2)} GFLOP per frame (conv layers, counted on the PyTorch rebuild)`,
  );
  for (const { threads, modelMs } of figures) {
    const peak = assumedPeak(threads);
    const achieved = gflop / (modelMs / 1000);
    console.log(
      `  ${threads} thread(s): ${achieved.toFixed(1)} GFLOP/s = ${((100 * achieved) / peak.gflops).toFixed(1)}% of the assumed peak ` +
        `${peak.gflops.toFixed(0)} GFLOP/s (${threads} core(s) x ${peak.ghz.toFixed(2)} GHz x ${peak.flopsPerCycle} FLOP/cycle, ${peak.isa})`,
    );
  }
  console.log(
    `PyTorch ${torchVersion} eager on CPU, weights rebuilt from ${card.onnx} and checked against ${name}.reference.json`,
  );
}

export const engineBench = { name: 'engine', run };
