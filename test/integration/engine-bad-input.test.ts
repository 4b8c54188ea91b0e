import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listModels, openEngine, readModelCard } from '../../src-main/engine/index.js';
import { modelsWithReference, testModelsDir } from '../helpers/models.js';

/** Writes a one-layer ONNX graph (1x1 conv to D channels; with nan, divided by zero) using Python's onnx package. */
const TINY_GRAPH = `
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
path, d, h, w, nan = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
dim = lambda v: int(v) if v.isdigit() else v
x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, dim(h), dim(w)])
y = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, d, dim(h), dim(w)])
inits = [numpy_helper.from_array(np.full((d, 3, 1, 1), 0.0 if nan else 0.1, np.float32), "w")]
nodes = [helper.make_node("Conv", ["image", "w"], ["conv" if nan else "embedding"])]
if nan:
    inits.append(numpy_helper.from_array(np.zeros((1,), np.float32), "zero"))
    nodes.append(helper.make_node("Div", ["conv", "zero"], ["embedding"]))
model = helper.make_model(helper.make_graph(nodes, "tiny", [x], [y], inits), opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.save(model, path)
`;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A models folder holding NAME.onnx (from the given writer) and a card for it, edited by `edit`. */
function modelFolder(name: string, writeOnnx: (path: string) => void, card: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dml-engine-'));
  const onnx = join(dir, `${name}.onnx`);
  writeOnnx(onnx);
  writeFileSync(
    join(dir, `${name}.json`),
    JSON.stringify({ ...card, name, onnx: `${name}.onnx`, sha256: sha256(onnx) }),
  );
  return dir;
}

function tinyCard(dim: number, width: number, height: number): Record<string, unknown> {
  const classes = Array.from({ length: dim }, (_, index) => ({
    index,
    name: `c${index}`,
    datasetId: index,
    color: [index, 0, 0],
  }));
  return {
    format: 'dmlreview-model-card/1',
    description: 'test graph',
    input: { name: 'image', width, height, resize: 'stretch', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    output: { name: 'embedding', stride: 1, kind: 'embedding', embeddingDim: dim },
    head: { type: 'fixed-prototypes', prototypes: classes.map((_, k) => classes.map((__, c) => (k === c ? 3 : 0))) },
    classes,
    unknownClasses: [],
    scores: {
      default: 'eds',
      eds: { sMax: 30 },
      combined: { beta: 20, gamma: 0.8 },
      threshold: 0.5,
      frameThreshold: 0.5,
    },
    dataset: { name: 'test', ignoreIndex: 255 },
  };
}

function tinyGraph(dim: number, height: string, width: string, nan = false) {
  return (path: string) =>
    execFileSync('/usr/bin/python3', ['-c', TINY_GRAPH, path, String(dim), height, width, nan ? '1' : '0']);
}

const realName = modelsWithReference()[0]!;
const realCard = JSON.parse(readFileSync(join(testModelsDir, `${realName}.json`), 'utf8')) as Record<string, unknown>;
const copyReal = (path: string) => copyFileSync(join(testModelsDir, `${realName}.onnx`), path);

test('a missing model file is an error naming the file; listModels reports it instead of throwing', async () => {
  const dir = modelFolder('gone', copyReal, realCard);
  writeFileSync(join(dir, 'gone.json'), JSON.stringify({ ...realCard, name: 'gone', onnx: 'absent.onnx' }));
  await assert.rejects(openEngine(dir, 'gone'), /Model file .*absent\.onnx cannot be read/);
  const [info] = await listModels(dir);
  assert.equal(info?.status, 'error');
  assert.match(info?.error ?? '', /absent\.onnx cannot be read/);
  await assert.rejects(openEngine(dir, 'nothing'), /Model card .*nothing\.json cannot be read/);
});

test('a truncated model file is refused, naming the file', async () => {
  const bytes = readFileSync(join(testModelsDir, `${realName}.onnx`));
  const dir = modelFolder('cut', (path) => writeFileSync(path, bytes.subarray(0, bytes.length >> 1)), realCard);
  await assert.rejects(
    openEngine(dir, 'cut', { provider: 'cpu' }),
    /Model file .*cut\.onnx is not a valid ONNX model or is truncated/,
  );
  writeFileSync(join(dir, 'cut.json'), JSON.stringify({ ...realCard, name: 'cut', onnx: 'cut.onnx' }));
  const [info] = await listModels(dir);
  assert.match(info?.error ?? '', /cut\.onnx does not match its card .*truncated or replaced/);
});

test('a file that is not ONNX is refused, naming the file', async () => {
  const dir = modelFolder('text', (path) => writeFileSync(path, 'this is not a model\n'), realCard);
  await assert.rejects(
    openEngine(dir, 'text', { provider: 'cpu' }),
    /Model file .*text\.onnx is not a valid ONNX model/,
  );
  const empty = modelFolder('empty', (path) => writeFileSync(path, ''), realCard);
  await assert.rejects(openEngine(empty, 'empty', { provider: 'cpu' }), /Model file .*empty\.onnx is empty/);
});

test('a card whose input or output name disagrees with the graph is refused with both names', async () => {
  const input = realCard.input as Record<string, unknown>;
  const dir = modelFolder('renamed', copyReal, { ...realCard, input: { ...input, name: 'pixels' } });
  await assert.rejects(
    openEngine(dir, 'renamed', { provider: 'cpu' }),
    /renamed\.json disagrees with .*renamed\.onnx: card input "pixels", graph inputs \[image\]/,
  );
  const output = realCard.output as Record<string, unknown>;
  const dir2 = modelFolder('renamed', copyReal, { ...realCard, output: { ...output, name: 'features' } });
  await assert.rejects(
    openEngine(dir2, 'renamed', { provider: 'cpu' }),
    /card output "features", graph outputs \[(embedding|logits)\]/,
  );
});

test('a card whose embedding size disagrees with the graph is refused at load', async () => {
  const dir = modelFolder('dims', tinyGraph(4, 'height', 'width'), tinyCard(3, 16, 8));
  await assert.rejects(
    openEngine(dir, 'dims', { provider: 'cpu' }),
    /dims\.json disagrees with .*dims\.onnx: card expects output embedding \[1, 3, 8, 16\] \(embeddingDim 3, stride 1\), graph gives \[1, 4, 8, 16\]/,
  );
});

test('a card whose input size disagrees with a fixed-size graph is refused', async () => {
  const dir = modelFolder('fixed', tinyGraph(3, '8', '8'), tinyCard(3, 16, 12));
  await assert.rejects(openEngine(dir, 'fixed', { provider: 'cpu' }), /card input size 16x12, graph input 8x8/);
});

test('a card that is inconsistent in itself names the field', async () => {
  const card = tinyCard(3, 16, 8);
  const dir = modelFolder('proto', tinyGraph(3, 'height', 'width'), {
    ...card,
    head: {
      type: 'fixed-prototypes',
      prototypes: [
        [3, 0],
        [0, 3],
        [0, 0],
      ],
    },
  });
  await assert.rejects(
    readModelCard(dir, 'proto'),
    /proto\.json is inconsistent: head\.prototypes\[0\] has 2 values, output\.embeddingDim is 3/,
  );
  const dir2 = modelFolder('field', tinyGraph(3, 'height', 'width'), { ...card, input: { name: 'image' } });
  await assert.rejects(readModelCard(dir2, 'field'), /field\.json is invalid: input\.width/);
  writeFileSync(join(dir2, 'field.json'), '{ not json');
  await assert.rejects(readModelCard(dir2, 'field'), /field\.json is not valid JSON/);
  const dir3 = modelFolder('scale', tinyGraph(3, 'height', 'width'), {
    ...card,
    scores: { ...(card.scores as object), default: 'margin' },
  });
  await assert.rejects(
    readModelCard(dir3, 'scale'),
    /scale\.json is inconsistent: scores\.default is margin but scores\.margin is missing/,
  );
  const dir4 = modelFolder('coarse', tinyGraph(3, 'height', 'width'), {
    ...card,
    output: { ...(card.output as object), stride: 4 },
  });
  await assert.rejects(
    readModelCard(dir4, 'coarse'),
    /coarse\.json is inconsistent: output\.stride is 4 but output\.upsample, how to bring it to the input size, is missing/,
  );
});

test('NaN model output and bad frames are errors naming the problem; the engine keeps working after a bad frame', async () => {
  const dir = modelFolder('nan', tinyGraph(3, 'height', 'width', true), tinyCard(3, 16, 8));
  const engine = await openEngine(dir, 'nan', { provider: 'cpu', threads: 1 });
  try {
    await assert.rejects(
      engine.analyze({ width: 16, height: 8, data: new Uint8Array(16 * 8 * 3) }),
      /nan\.onnx produced a NaN or infinite output/,
    );
  } finally {
    await engine.dispose();
  }
  const good = await openEngine(modelFolder('ok', tinyGraph(3, 'height', 'width'), tinyCard(3, 16, 8)), 'ok', {
    provider: 'cpu',
    threads: 1,
  });
  try {
    await assert.rejects(
      good.analyze({ width: 16, height: 8, data: new Uint8Array(16 * 8 * 4) }),
      /Frame 16x8 must hold 384 bytes of RGB \(3 channels\), got 4 channels per pixel/,
    );
    const result = await good.analyze({ width: 30, height: 20, data: new Uint8Array(30 * 20 * 3).fill(128) });
    assert.equal(result.width, 16);
  } finally {
    await good.dispose();
  }
});
