import type { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import { WorkerChannel, withPngBuffers } from '../core/worker-channel.js';
import { startWorker } from '../core/workers.js';
import type { HeadSettings } from './metric-head.js';
import type { ModelCard } from './model-card.js';
import type { AnalyzeOptions, ExecutionProviderSetting, FrameResult, RgbFrame, TaughtPrototype } from './types.js';
import type { RegionPlaces } from './unknown-regions.js';

export interface LaneData {
  modelsDir: string;
  card: ModelCard;
  provider: ExecutionProviderSetting;
  threads: number;
  settings: HeadSettings;
  classCount: number;
  places: RegionPlaces;
}

export type LaneRequest =
  | { id: number; type: 'analyze'; frame: RgbFrame; options: AnalyzeOptions }
  | { id: number; type: 'taught'; classes: TaughtPrototype[]; classCount: number };

export type LaneReply =
  | { id: number; ok: true; frame: FrameResult }
  | { id: number; ok: true; provider: { name: string; notes: string[] } }
  | { id: number; ok: true }
  | { id: number; ok: false; code: ErrorCode; message: string };

/** The id of the reply a lane sends once its model is loaded and warmed up (or failed to load). */
export const READY_ID = 0;

/**
 * One lane of the engine: a worker thread with its own model session (pre-processing and model) and a head
 * thread of its own (metric head, summary, maps), which takes a frame from RGB to result. onnxruntime-node
 * blocks the thread that runs a model, so lanes keep the caller's thread free, and on a CPU several lanes with
 * fewer threads each analyse frames side by side, because a single convolution does not keep two threads busy
 * (figures: docs/benchmarks.md, "The engine").
 */
export class FrameLane {
  private readonly channel: WorkerChannel<LaneRequest, LaneReply>;

  private constructor(
    worker: Worker,
    readonly provider: { name: string; notes: string[] },
  ) {
    this.channel = new WorkerChannel(worker, 'an engine thread', READY_ID + 1);
  }

  /** Starts the thread and waits until its model is loaded, checked against the card and warmed up. */
  static async start(data: LaneData): Promise<FrameLane> {
    const worker = startWorker('engine/lane.worker.ts', data);
    const ready = await new Promise<LaneReply>((resolve, reject) => {
      const settle = (finish: () => void) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        finish();
      };
      const onMessage = (reply: LaneReply) => settle(() => resolve(reply));
      const onError = (error: Error) => settle(() => reject(error));
      const onExit = (code: number) =>
        settle(() => reject(new Error(`an engine thread stopped while loading (exit code ${code})`)));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    if (!ready.ok || !('provider' in ready)) {
      await worker.terminate();
      throw ready.ok ? new Error('an engine thread answered out of turn') : new AppError(ready.code, ready.message);
    }
    return new FrameLane(worker, ready.provider);
  }

  /** Frames sent and not yet answered. */
  get load(): number {
    return this.channel.load;
  }

  async analyze(frame: RgbFrame, options: AnalyzeOptions): Promise<FrameResult> {
    // A frame that is not lent, or is a view into a larger (pooled) buffer: send a copy of just its bytes.
    const { buffer, byteOffset, byteLength } = frame.data;
    const whole = buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength;
    const data = options.lendFrame && whole ? frame.data : frame.data.slice();
    const reply = await this.channel.request(
      { id: 0, type: 'analyze', frame: { width: frame.width, height: frame.height, data }, options },
      [data.buffer as ArrayBuffer],
    );
    if (!('frame' in reply)) throw new Error('an engine thread answered out of turn');
    return withPngBuffers(reply.frame);
  }

  setTaught(classes: TaughtPrototype[], classCount: number): Promise<unknown> {
    return this.channel.request({ id: 0, type: 'taught', classes, classCount });
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
