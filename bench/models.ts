/**
 * `npm run bench -- models`: every usable model in models/ through the whole engine (pre-processing, model,
 * metric head, summary, both PNG maps), as an analysis runs it (2 threads, 2 lanes, frames in flight), in
 * interleaved rounds so that the machine's noise falls on all of them alike; the ratio is to the reference
 * model (BENCH_REFERENCE, default `camvid-open`, the from-scratch open-set model).
 */
import { defaultModelsDir } from '../src-main/core/paths.js';
import { listModels, openEngine, readModelCard, type Engine } from '../src-main/engine/index.js';
import { benchFrame, engineMsPerFrame } from './engine.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REFERENCE = process.env.BENCH_REFERENCE ?? 'camvid-open';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function run(): Promise<void> {
  const modelsDir = process.env.BENCH_MODELS ?? defaultModelsDir();
  const names = (await listModels(modelsDir)).filter((model) => model.status === 'ok').map((model) => model.name);
  if (!names.includes(REFERENCE)) throw new Error(`Reference model ${REFERENCE} is not in ${modelsDir}`);
  const frame = await benchFrame(await readModelCard(modelsDir, REFERENCE));
  const engines = new Map<string, Engine>();
  for (const name of names)
    engines.set(name, await openEngine(modelsDir, name, { provider: 'cpu', threads: 2, lanes: 2 }));
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, engine] of engines)
        times.get(name)!.push(await engineMsPerFrame(engine, frame, engine.framesInFlight));
    }
  } finally {
    await Promise.all([...engines.values()].map((engine) => engine.dispose()));
  }
  const reference = median(times.get(REFERENCE)!);
  console.log(`frame ${frame.width}x${frame.height}; 2 threads, 2 lanes; median of ${ROUNDS} interleaved rounds`);
  console.log(['model', 'ms/frame', 'fps', `vs ${REFERENCE}`].map((title, i) => title.padStart(i ? 14 : 24)).join(''));
  for (const name of names) {
    const ms = median(times.get(name)!);
    console.log(
      name.padStart(24) +
        ms.toFixed(1).padStart(14) +
        (1000 / ms).toFixed(2).padStart(14) +
        `${(ms / reference).toFixed(2)}x time`.padStart(14),
    );
  }
}

export const modelsBench = { name: 'models', run };
