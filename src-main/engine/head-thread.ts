import type { ErrorCode } from '../../src-shared/contract/index.js';
import { WorkerChannel, withPngBuffers } from '../core/worker-channel.js';
import { startWorker } from '../core/workers.js';
import { MetricHead, taughtRows, type HeadSettings } from './metric-head.js';
import type { FrameResult, TaughtPrototype } from './types.js';
import type { RegionPlaces } from './unknown-regions.js';

export type HeadRequest =
  | { id: number; type: 'apply'; data: Float32Array; width: number; height: number; encodeMaps: boolean }
  | { id: number; type: 'taught'; classes: TaughtPrototype[]; classCount: number };

export type HeadReply =
  | ({ id: number; ok: true; data: Float32Array } & Pick<
      FrameResult,
      'classMap' | 'oodMap' | 'nearestKnown' | 'summary' | 'regions' | 'mapPngs' | 'descriptors'
    >)
  | { id: number; ok: true; data?: undefined }
  | { id: number; ok: false; code: ErrorCode; message: string };

export interface HeadThreadData {
  settings: HeadSettings;
  classCount: number;
  places: RegionPlaces;
}

export type HeadResult = Pick<
  FrameResult,
  'classMap' | 'oodMap' | 'nearestKnown' | 'summary' | 'regions' | 'mapPngs' | 'descriptors'
> & {
  /** The model output handed to the head, given back. */
  data: Float32Array;
};

/**
 * The metric head, frame summary and maps of one engine lane, on a thread of their own: onnxruntime-node runs a
 * model on the calling thread, so on that thread the head of frame N could not overlap the model of frame N+1;
 * here it does. The model output travels both ways without a copy (its buffer is transferred, then back).
 */
export class HeadThread {
  private readonly channel: WorkerChannel<HeadRequest, HeadReply>;

  constructor(
    private readonly settings: HeadSettings,
    classCount: number,
    places: RegionPlaces,
  ) {
    new MetricHead(settings); // refuses bad settings (a score the model cannot give) here, when the model loads
    const worker = startWorker('engine/head.worker.ts', { settings, classCount, places } satisfies HeadThreadData);
    this.channel = new WorkerChannel(worker, 'the metric head thread');
  }

  async apply(data: Float32Array, width: number, height: number, encodeMaps = false): Promise<HeadResult> {
    const request: HeadRequest = { id: 0, type: 'apply', data, width, height, encodeMaps };
    const reply = await this.channel.request(request, [data.buffer as ArrayBuffer]);
    if (reply.data === undefined) throw new Error('the metric head thread answered out of turn');
    const { id: _id, ok: _ok, ...result } = reply;
    return withPngBuffers(result);
  }

  /** Checks the classes here (a bad one throws at once), then hands them to the thread for the frames after. */
  setTaught(classes: TaughtPrototype[], classCount: number): Promise<unknown> {
    taughtRows(this.settings, classes);
    return this.channel.request({ id: 0, type: 'taught', classes, classCount });
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
