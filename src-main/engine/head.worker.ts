// The metric head and frame summary of HeadThread (head-thread.ts), off the thread that runs the model.
import { parentPort, workerData } from 'node:worker_threads';
import { failedReply } from '../core/worker-channel.js';
import type { HeadReply, HeadRequest, HeadThreadData } from './head-thread.js';
import { describeRegions, prototypeSpacing } from './descriptors.js';
import { encodeClassMapPng, encodeOodMapPng } from './maps.js';
import { MetricHead } from './metric-head.js';
import { summarizeFrame } from './summary.js';

const port = parentPort!;
const { settings, classCount: cardClassCount, places, mapSize } = workerData as HeadThreadData;
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
  const { id, data, width, height, encodeMaps, keepEmbedding } = request;
  const coarse = width !== mapSize.width || height !== mapSize.height;
  const embedding = coarse ? head.upsample(data, { width, height }, mapSize) : data;
  const out = head.apply(embedding, mapSize.width * mapSize.height);
  // An upsampled embedding is a view of the head's buffers, which describing regions may grow and so move: the
  // caller's copy is taken first.
  const kept = keepEmbedding ? (coarse ? embedding.slice() : embedding) : undefined;
  const frame = { ...mapSize, classCount, places };
  const { summary, regions } = summarizeFrame(out.classMap, out.ood, out.tallies, frame);
  const descriptors =
    scale === undefined
      ? undefined
      : describeRegions(embedding, settings.dim, out.classMap, out.ood, { ...mapSize, scale }, head.kernel);
  // PNGs are copied back, not transferred: small Buffers can share one pooled ArrayBuffer.
  const mapPngs = encodeMaps
    ? {
        classMap: encodeClassMapPng({ classMap: out.classMap, ...mapSize }),
        oodMap: encodeOodMapPng({ levels: out.oodBytes, ...mapSize }),
      }
    : undefined;
  const reply: HeadReply = {
    id,
    ok: true,
    ...mapSize,
    classMap: out.classMap,
    oodMap: out.ood,
    nearestKnown: out.nearestKnown,
    summary,
    regions,
    mapPngs,
    descriptors,
    ...(kept ? { embedding: kept } : {}),
  };
  const buffers = [out.classMap, out.ood, out.nearestKnown, ...(kept ? [kept] : [])].map(
    (array) => array.buffer as ArrayBuffer,
  );
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
