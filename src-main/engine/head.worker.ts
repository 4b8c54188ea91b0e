// The metric head and frame summary of HeadThread (head-thread.ts), off the thread that runs the model.
import { parentPort, workerData } from 'node:worker_threads';
import { failedReply } from '../core/worker-channel.js';
import type { HeadReply, HeadRequest, HeadThreadData } from './head-thread.js';
import { describeRegions, prototypeSpacing } from './descriptors.js';
import { encodeClassMapPng, encodeOodMapPng } from './maps.js';
import { MetricHead } from './metric-head.js';
import { summarizeFrame } from './summary.js';

const port = parentPort!;
const { settings, classCount: cardClassCount, places } = workerData as HeadThreadData;
const head = new MetricHead(settings);
let classCount = cardClassCount;
// Descriptors are mean embeddings: a logit model (the cross-entropy baseline) has no embedding space to search.
const scale = settings.kind === 'embedding' ? prototypeSpacing(settings.prototypes) : undefined;

function answer(request: HeadRequest): { reply: HeadReply; transfer: ArrayBuffer[] } {
  if (request.type === 'taught') {
    head.setTaught(request.classes);
    classCount = request.classCount;
    return { reply: { id: request.id, ok: true }, transfer: [] };
  }
  const { id, data, width, height, encodeMaps } = request;
  const out = head.apply(data, width * height);
  const { summary, regions } = summarizeFrame(out.classMap, out.ood, out.tallies, {
    width,
    height,
    classCount,
    places,
  });
  const descriptors =
    scale === undefined
      ? undefined
      : describeRegions(data, settings.dim, out.classMap, out.ood, { width, height, scale });
  // PNGs are copied back, not transferred: small Buffers can share one pooled ArrayBuffer.
  const mapPngs = encodeMaps
    ? {
        classMap: encodeClassMapPng({ classMap: out.classMap, width, height }),
        oodMap: encodeOodMapPng({ levels: out.oodBytes, width, height }),
      }
    : undefined;
  const reply: HeadReply = {
    id,
    ok: true,
    data,
    classMap: out.classMap,
    oodMap: out.ood,
    nearestKnown: out.nearestKnown,
    summary,
    regions,
    mapPngs,
    descriptors,
  };
  const buffers = [data, out.classMap, out.ood, out.nearestKnown].map((array) => array.buffer as ArrayBuffer);
  return { reply, transfer: buffers };
}

port.on('message', (request: HeadRequest) => {
  try {
    const { reply, transfer } = answer(request);
    port.postMessage(reply, transfer);
  } catch (error) {
    port.postMessage(failedReply(request.id, error));
  }
});
