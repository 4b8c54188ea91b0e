// One engine lane (frame-lane.ts): pre-processing, model, metric head, summary and maps of a frame, on a
// thread of its own with its own model session.
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, errorMessage } from '../core/errors.js';
import { READY_ID, type LaneData, type LaneReply, type LaneRequest } from './frame-lane.js';
import { encodeClassMapPng, encodeOodMapPng } from './maps.js';
import { MetricHead } from './metric-head.js';
import { OnnxModel } from './onnx-model.js';
import { Preprocessor } from './preprocess.js';
import { summarizeFrame } from './summary.js';
import type { FrameResult } from './types.js';

const port = parentPort!;
const { modelsDir, card, provider, threads, settings, classCount: cardClassCount } = workerData as LaneData;
const preprocessor = new Preprocessor(card.input.width, card.input.height, card.input.mean, card.input.std);
const head = new MetricHead(settings);
let classCount = cardClassCount;

function failure(id: number, error: unknown): LaneReply {
  const code = error instanceof AppError ? error.code : 'internal';
  return { id, ok: false, code, message: errorMessage(error) };
}

async function analyze(model: OnnxModel, request: Extract<LaneRequest, { type: 'analyze' }>) {
  const output = await model.run(preprocessor.run(request.frame));
  const { width, height } = output;
  const out = head.apply(output.data, width * height);
  const summary = summarizeFrame(out.classMap, out.tallies, width, height, classCount);
  // PNGs are copied back, not transferred: small Buffers can share one pooled ArrayBuffer.
  const mapPngs = request.options.encodeMaps
    ? {
        classMap: encodeClassMapPng({ classMap: out.classMap, width, height }),
        oodMap: encodeOodMapPng({ levels: out.oodBytes, width, height }),
      }
    : undefined;
  const embedding = request.options.keepEmbedding ? output.data : undefined;
  const frame: FrameResult = {
    width,
    height,
    classMap: out.classMap,
    oodMap: out.ood,
    nearestKnown: out.nearestKnown,
    summary,
    ...(embedding ? { embedding } : {}),
    ...(mapPngs ? { mapPngs } : {}),
  };
  const arrays = [out.classMap, out.ood, out.nearestKnown, ...(embedding ? [embedding] : [])];
  return { reply: { id: request.id, ok: true, frame } satisfies LaneReply, transfer: arrays.map((a) => a.buffer) };
}

async function answer(model: OnnxModel, request: LaneRequest) {
  if (request.type === 'taught') {
    head.setTaught(request.classes);
    classCount = request.classCount;
    return { reply: { id: request.id, ok: true } satisfies LaneReply, transfer: [] };
  }
  return analyze(model, request);
}

async function main(): Promise<void> {
  let model: OnnxModel;
  try {
    model = await OnnxModel.load(modelsDir, card, provider, threads);
  } catch (error) {
    port.postMessage(failure(READY_ID, error));
    return;
  }
  port.postMessage({ id: READY_ID, ok: true, provider: model.provider } satisfies LaneReply);
  // One request at a time, in order: the session and the head's kernel memory are this thread's own.
  let queue = Promise.resolve();
  port.on('message', (request: LaneRequest) => {
    queue = queue.then(async () => {
      try {
        const { reply, transfer } = await answer(model, request);
        port.postMessage(reply, transfer as ArrayBuffer[]);
      } catch (error) {
        port.postMessage(failure(request.id, error));
      }
    });
  });
}

void main();
