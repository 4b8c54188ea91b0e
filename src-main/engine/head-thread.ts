import type { ErrorCode } from '../../src-shared/contract/index.js';
import { WorkerChannel, withPngBuffers } from '../core/worker-channel.js';
import { startWorker } from '../core/workers.js';
import { MetricHead, taughtRows, type HeadSettings } from './metric-head.js';
import type { Size } from './metric-kernel.js';
import type { FrameResult, TaughtPrototype } from './types.js';
import type { RegionPlaces } from './unknown-regions.js';

export interface HeadOptions {
  encodeMaps: boolean;
  keepEmbedding: boolean;
}

export type HeadRequest =
  | ({ id: number; type: 'apply'; data: Float32Array; width: number; height: number } & HeadOptions)
  | { id: number; type: 'taught'; classes: TaughtPrototype[]; classCount: number };

export type HeadReply =
  | ({ id: number; ok: true } & HeadResult)
  | { id: number; ok: true; summary?: undefined }
  | { id: number; ok: false; code: ErrorCode; message: string };

export interface HeadThreadData {
  settings: HeadSettings;
  classCount: number;
  places: RegionPlaces;
  /** The size of the maps (the card's input): a coarser model output is upsampled to it. */
  mapSize: Size;
}

export type HeadResult = Pick<
  FrameResult,
  | 'width'
  | 'height'
  | 'classMap'
  | 'oodMap'
  | 'nearestKnown'
  | 'summary'
  | 'regions'
  | 'mapPngs'
  | 'descriptors'
  | 'embedding'
>;

/**
 * The metric head, frame summary and maps of one engine lane, on a thread of their own: onnxruntime-node runs a
 * model on the calling thread, so on that thread the head of frame N could not overlap the model of frame N+1;
 * here it does. The model output travels there without a copy (its buffer is transferred) and, when the caller
 * keeps the embedding, comes back the same way.
 */
export class HeadThread {
  private readonly channel: WorkerChannel<HeadRequest, HeadReply>;

  constructor(
    private readonly settings: HeadSettings,
    classCount: number,
    places: RegionPlaces,
    mapSize: Size,
  ) {
    new MetricHead(settings); // refuses bad settings (a score the model cannot give) here, when the model loads
    const data: HeadThreadData = { settings, classCount, places, mapSize };
    const worker = startWorker('engine/head.worker.ts', data);
    this.channel = new WorkerChannel(worker, 'the metric head thread');
  }

  /** The maps of one model output (width x height, the model's output size), at the map size. */
  async apply(data: Float32Array, width: number, height: number, options: HeadOptions): Promise<HeadResult> {
    const request: HeadRequest = { id: 0, type: 'apply', data, width, height, ...options };
    const reply = await this.channel.request(request, [data.buffer as ArrayBuffer]);
    if (reply.summary === undefined) throw new Error('the metric head thread answered out of turn');
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
