// One engine lane (frame-lane.ts): pre-processing and the model of a frame on this thread, with its own
// model session; the metric head, summary and maps on the lane's head thread (head-thread.ts), so that the
// head of one frame overlaps the model of the next.
import { parentPort, workerData } from 'node:worker_threads';
import { failedReply } from '../core/worker-channel.js';
import { READY_ID, type LaneData, type LaneReply, type LaneRequest } from './frame-lane.js';
import { HeadThread } from './head-thread.js';
import { OnnxModel } from './onnx-model.js';
import { Preprocessor } from './preprocess.js';
import type { FrameResult } from './types.js';

const port = parentPort!;
const { modelsDir, card, provider, threads, settings, classCount, places } = workerData as LaneData;
const mapSize = { width: card.input.width, height: card.input.height };
const preprocessor = new Preprocessor(card.input.width, card.input.height, card.input.mean, card.input.std);

async function analyse(
  head: HeadThread,
  request: Extract<LaneRequest, { type: 'analyze' }>,
  modelled: Promise<Awaited<ReturnType<OnnxModel['run']>>>,
): Promise<void> {
  try {
    const { width, height, data } = await modelled;
    const { keepEmbedding = false, encodeMaps = false } = request.options;
    const result = await head.apply(data, width, height, { keepEmbedding, encodeMaps });
    // The model has read the frame by now: a lent one goes back with the result.
    const lentFrame = request.options.lendFrame ? request.frame : undefined;
    const frame: FrameResult = { ...result, ...(lentFrame ? { lentFrame } : {}) };
    const arrays = [
      result.classMap,
      result.oodMap,
      result.nearestKnown,
      ...(result.embedding ? [result.embedding] : []),
      ...(lentFrame ? [lentFrame.data] : []),
    ];
    port.postMessage(
      { id: request.id, ok: true, frame } satisfies LaneReply,
      arrays.map((a) => a.buffer as ArrayBuffer),
    );
  } catch (error) {
    port.postMessage(failedReply(request.id, error));
  }
}

async function main(): Promise<void> {
  let model: OnnxModel;
  try {
    model = await OnnxModel.load(modelsDir, card, provider, threads);
  } catch (error) {
    port.postMessage(failedReply(READY_ID, error));
    return;
  }
  const head = new HeadThread(settings, classCount, places, mapSize);
  port.postMessage({ id: READY_ID, ok: true, provider: model.provider } satisfies LaneReply);
  // Models run one at a time, in order (the session and its input tensor are this thread's); each output goes
  // to the head thread as soon as it is ready, and the head thread takes its requests in order too.
  let modelStage: Promise<unknown> = Promise.resolve();
  port.on('message', (request: LaneRequest) => {
    if (request.type === 'taught') {
      // After the frames sent before it have reached the head thread.
      modelStage = modelStage.then(() =>
        head.setTaught(request.classes, request.classCount).then(
          () => port.postMessage({ id: request.id, ok: true } satisfies LaneReply),
          (error: unknown) => port.postMessage(failedReply(request.id, error)),
        ),
      );
      return;
    }
    const modelled = modelStage.then(() => model.run(preprocessor.run(request.frame)));
    modelStage = modelled.catch(() => undefined);
    void analyse(head, request, modelled);
  });
}

void main();
