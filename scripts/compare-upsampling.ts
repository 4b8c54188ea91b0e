/**
 * Why `road`'s graph ends at its 1/4 embedding: the bilinear, align-corners resize of its 19 planes to 480x360
 * (the node it used to end with, 16 of its 61 ms a frame: scripts/profile-model-ops.ts) as a one-node ONNX graph
 * in ONNX Runtime, against the engine's WebAssembly upsampling (MetricHead.upsample) that replaced it, and the
 * largest difference between the two (docs/benchmarks.md, "Shipped models"). The graph is written with Python's
 * onnx.
 *
 *   node --import tsx scripts/compare-upsampling.ts [--threads 1] [--runs 20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { integerFlag } from '../src-main/cli/command.js';
import { MetricHead } from '../src-main/engine/metric-head.js';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' } },
});
const [CHANNELS, HEIGHT, WIDTH, OUT_HEIGHT, OUT_WIDTH] = [19, 90, 120, 360, 480];

const GRAPH_SCRIPT = `
import sys, onnx
from onnx import helper, TensorProto
c, h, w, H, W = map(int, sys.argv[2:7])
sizes = helper.make_tensor('sizes', TensorProto.INT64, [4], [1, c, H, W])
node = helper.make_node('Resize', ['x', '', '', 'sizes'], ['y'], mode='linear', coordinate_transformation_mode='align_corners')
graph = helper.make_graph([node], 'resize', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, c, h, w])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, c, H, W])], initializer=[sizes])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
model.ir_version = 8
onnx.save(model, sys.argv[1])
`;

async function msPerRun(runs: number, work: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await work();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await work();
  return (performance.now() - start) / runs;
}

async function main(): Promise<void> {
  const [threads, runs] = [integerFlag('threads', values.threads, 1), integerFlag('runs', values.runs, 1)];
  const directory = mkdtempSync(join(tmpdir(), 'dmlreview-upsampling-'));
  try {
    const graph = join(directory, 'resize.onnx');
    const sizes = [CHANNELS, HEIGHT, WIDTH, OUT_HEIGHT, OUT_WIDTH].map(String);
    execFileSync('/usr/bin/python3', ['-c', GRAPH_SCRIPT, graph, ...sizes]);
    const source = Float32Array.from({ length: CHANNELS * HEIGHT * WIDTH }, (_, i) => 3 * Math.sin(i * 0.37));
    const head = new MetricHead({
      kind: 'logits',
      knownCount: CHANNELS,
      dim: CHANNELS,
      prototypes: [],
      score: 'msp',
      sMax: 1,
      sFloor: 0,
      beta: 1,
      gamma: 1,
      threshold: 0.5,
      source: 'compare-upsampling',
    });
    const [from, to] = [
      { width: WIDTH, height: HEIGHT },
      { width: OUT_WIDTH, height: OUT_HEIGHT },
    ];
    let target: Float32Array = new Float32Array(0);
    const kernelMs = await msPerRun(runs, () => (target = head.upsample(source, from, to)));
    const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: threads });
    const input = new ort.Tensor('float32', source, [1, CHANNELS, HEIGHT, WIDTH]);
    let output: Float32Array = new Float32Array(0);
    const onnxMs = await msPerRun(runs, async () => {
      output = (await session.run({ x: input })).y!.data as Float32Array;
    });
    await session.release();
    const largestDifference = output.reduce((most, value, i) => Math.max(most, Math.abs(value - target[i]!)), 0);
    console.log(
      `${CHANNELS} x ${HEIGHT}x${WIDTH} -> ${OUT_HEIGHT}x${OUT_WIDTH}, bilinear, align corners; mean of ${runs} runs`,
    );
    console.log(`ONNX Runtime Resize (${threads} thread(s), output handed to JavaScript): ${onnxMs.toFixed(2)} ms`);
    console.log(`engine (WebAssembly, rows then columns 4 at a time, 1 thread): ${kernelMs.toFixed(2)} ms`);
    console.log(`largest difference: ${largestDifference.toExponential(2)}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
