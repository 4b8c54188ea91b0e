import type { Worker } from 'node:worker_threads';
import { AppError } from '../core/errors.js';
import { startWorker } from '../core/workers.js';
import { MetricHead, taughtRows, type HeadSettings } from './metric-head.js';
import type { FrameResult, TaughtPrototype } from './types.js';

export type HeadRequest =
  | { id: number; type: 'apply'; data: Float32Array; width: number; height: number; encodeMaps: boolean }
  | { id: number; type: 'taught'; classes: TaughtPrototype[]; classCount: number };

export type HeadReply =
  | ({ id: number; ok: true; data: Float32Array } & Pick<
      FrameResult,
      'classMap' | 'oodMap' | 'nearestKnown' | 'summary' | 'mapPngs'
    >)
  | { id: number; ok: true; data?: undefined }
  | { id: number; ok: false; code: string; message: string };

export interface HeadThreadData {
  settings: HeadSettings;
  classCount: number;
}

export type HeadResult = Pick<FrameResult, 'classMap' | 'oodMap' | 'nearestKnown' | 'summary' | 'mapPngs'> & {
  /** The model output handed to the head, given back. */
  data: Float32Array;
};

/**
 * The metric head, frame summary and maps of one engine lane, on a thread of their own: onnxruntime-node runs a
 * model on the calling thread, so on that thread the head of frame N could not overlap the model of frame N+1;
 * here it does. The model output travels both ways without a copy (its buffer is transferred, then back).
 */
export class HeadThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (reply: HeadReply) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(
    private readonly settings: HeadSettings,
    classCount: number,
  ) {
    new MetricHead(settings); // refuses bad settings (a score the model cannot give) here, when the model loads
    this.worker = startWorker('engine/head.worker.ts', { settings, classCount } satisfies HeadThreadData);
    this.worker.unref();
    this.worker.on('message', (reply: HeadReply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`the metric head thread stopped (exit code ${code})`)));
  }

  async apply(data: Float32Array, width: number, height: number, encodeMaps = false): Promise<HeadResult> {
    const request: HeadRequest = { id: 0, type: 'apply', data, width, height, encodeMaps };
    const reply = await this.request(request, [data.buffer as ArrayBuffer]);
    if (!reply.ok || reply.data === undefined) throw new Error('the metric head thread answered out of turn');
    const { id: _id, ok: _ok, mapPngs, ...result } = reply;
    if (!mapPngs) return result;
    // Buffers arrive as plain Uint8Arrays: give them Buffer's methods back (no copy).
    const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { ...result, mapPngs: { classMap: asBuffer(mapPngs.classMap), oodMap: asBuffer(mapPngs.oodMap) } };
  }

  /** Checks the classes here (a bad one throws at once), then hands them to the thread for the frames after. */
  setTaught(classes: TaughtPrototype[], classCount: number): Promise<unknown> {
    taughtRows(this.settings, classes);
    return this.request({ id: 0, type: 'taught', classes, classCount }, []);
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the engine was disposed');
    await this.worker.terminate();
  }

  private request(message: HeadRequest, transfer: ArrayBuffer[]): Promise<HeadReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<HeadReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...message, id }, transfer);
    return reply;
  }

  private settle(reply: HeadReply): void {
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    // An idle head thread must not keep the process alive.
    if (this.pending.size === 0) this.worker.unref();
    if (!waiter) return;
    if (reply.ok) waiter.resolve(reply);
    else waiter.reject(new AppError(reply.code, reply.message));
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}
