/**
 * Where a shipped model's time goes inside ONNX Runtime: its own profiler over a few runs of one frame, summed
 * by operator type and by node (docs/benchmarks.md, "Shipped models"). The engine around the model is not
 * timed here (`npm run bench -- engine` has its stages).
 *
 *   node --import tsx scripts/profile-model-ops.ts [--model road] [--threads 1] [--runs 6] [--top 8]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { integerFlag } from '../src-main/cli/command.js';
import { defaultModelsDir } from '../src-main/core/paths.js';
import { readModelCard } from '../src-main/engine/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'road' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '6' },
    top: { type: 'string', default: '8' },
  },
});

interface ProfileEvent {
  cat?: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}

async function profile(modelPath: string, width: number, height: number, threads: number, runs: number) {
  const directory = mkdtempSync(join(tmpdir(), 'dmlreview-profile-'));
  try {
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: threads,
      enableProfiling: true,
      profileFilePrefix: join(directory, 'profile'),
    });
    const input = new ort.Tensor('float32', new Float32Array(3 * height * width).fill(0.1), [1, 3, height, width]);
    for (let run = 0; run < runs; run++) await session.run({ [session.inputNames[0]!]: input });
    session.endProfiling();
    await session.release();
    const file = readdirSync(directory).find((name) => name.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile in ${directory}`);
    const events = JSON.parse(readFileSync(join(directory, file), 'utf8')) as ProfileEvent[];
    return events.filter((event) => event.cat === 'Node' && event.name.endsWith('_kernel_time'));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function sumBy(events: ProfileEvent[], key: (event: ProfileEvent) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const event of events) sums.set(key(event), (sums.get(key(event)) ?? 0) + event.dur);
  return [...sums].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const [threads, runs, top] = [
    integerFlag('threads', values.threads, 1),
    integerFlag('runs', values.runs, 1),
    integerFlag('top', values.top, 1),
  ];
  const card = await readModelCard(defaultModelsDir(), values.model);
  const modelPath = join(defaultModelsDir(), `${values.model}.onnx`);
  const nodes = await profile(modelPath, card.input.width, card.input.height, threads, runs);
  const ms = (microseconds: number) => (microseconds / runs / 1000).toFixed(1);
  const total = nodes.reduce((sum, event) => sum + event.dur, 0);
  console.log(`${values.model}: ${ms(total)} ms a run in kernels, ${threads} thread(s), mean of ${runs} runs`);
  console.log(
    'by operator: ' +
      sumBy(nodes, (event) => event.args?.op_name ?? '?')
        .map(([op, us]) => `${op} ${ms(us)}`)
        .join(', '),
  );
  console.log(`slowest ${top} nodes:`);
  const shapes = new Map(nodes.map((event) => [event.name, JSON.stringify(event.args?.output_type_shape ?? '')]));
  for (const [name, us] of sumBy(nodes, (event) => event.name).slice(0, top))
    console.log(`  ${ms(us).padStart(6)} ms  ${name.replace(/_kernel_time$/, '')}  ${shapes.get(name)}`);
}

await main();
