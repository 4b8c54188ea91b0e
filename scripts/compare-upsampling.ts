/**
 * Is `road`'s last layer cheaper outside ONNX Runtime? Times the bilinear, align-corners resize of a 19-channel
 * embedding from 1/4 to 480x360 (road's `/Resize_1`, 16 of its 61 ms a frame: scripts/profile-model-ops.ts)
 * as a one-node ONNX graph in ONNX Runtime against a separable resize in plain JavaScript, and checks that both
 * give the same numbers (docs/benchmarks.md, "Shipped models"). The graph is written with Python's onnx.
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

/** Rows first, then columns; align corners: output i samples input i * (in - 1) / (out - 1). */
function upsampleSeparable(source: Float32Array, target: Float32Array, rowsScratch: Float32Array): void {
  const scaleY = (HEIGHT - 1) / (OUT_HEIGHT - 1);
  const scaleX = (WIDTH - 1) / (OUT_WIDTH - 1);
  const left = new Int32Array(OUT_WIDTH);
  const weightX = new Float32Array(OUT_WIDTH);
  for (let x = 0; x < OUT_WIDTH; x++) {
    left[x] = Math.min(Math.floor(x * scaleX), WIDTH - 2);
    weightX[x] = x * scaleX - left[x]!;
  }
  for (let c = 0; c < CHANNELS; c++) {
    const plane = c * HEIGHT * WIDTH;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < OUT_WIDTH; x++) {
        const at = plane + y * WIDTH + left[x]!;
        rowsScratch[y * OUT_WIDTH + x] = source[at]! + (source[at + 1]! - source[at]!) * weightX[x]!;
      }
    }
    for (let y = 0; y < OUT_HEIGHT; y++) {
      const top = Math.min(Math.floor(y * scaleY), HEIGHT - 2);
      const weight = y * scaleY - top;
      const [above, below, out] = [top * OUT_WIDTH, (top + 1) * OUT_WIDTH, (c * OUT_HEIGHT + y) * OUT_WIDTH];
      for (let x = 0; x < OUT_WIDTH; x++)
        target[out + x] = rowsScratch[above + x]! + (rowsScratch[below + x]! - rowsScratch[above + x]!) * weight;
    }
  }
}

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
    const target = new Float32Array(CHANNELS * OUT_HEIGHT * OUT_WIDTH);
    const rowsScratch = new Float32Array(HEIGHT * OUT_WIDTH);
    const javascriptMs = await msPerRun(runs, () => upsampleSeparable(source, target, rowsScratch));
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
    console.log(`JavaScript, separable, 1 thread: ${javascriptMs.toFixed(2)} ms`);
    console.log(`largest difference: ${largestDifference.toExponential(2)}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
