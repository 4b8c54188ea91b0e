import type { Worker } from 'node:worker_threads';
import { AppError, errorMessage } from './errors.js';

import type { ErrorCode } from '../../src-shared/contract/index.js';
/** A worker's answer: a result, or the code and message of the AppError it met. */
export type WorkerReply = { id: number } & ({ ok: true } | { ok: false; code: ErrorCode; message: string });

interface Waiter<Reply> {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/**
 * Requests to a worker thread and their replies, matched by id. A failed reply rejects as an AppError, and
 * when the thread dies every waiting request rejects with why. An idle worker does not keep the process alive.
 */
export class WorkerChannel<Request extends { id: number }, Reply extends WorkerReply> {
  private readonly pending = new Map<number, Waiter<Reply>>();
  private failure: Error | undefined;

  /** `thread` names the worker in the error a caller sees when it stops; ids start at `nextId`. */
  constructor(
    private readonly worker: Worker,
    private readonly thread: string,
    private nextId = 1,
  ) {
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`${thread} stopped (exit code ${code})`)));
    worker.unref();
  }

  /** Requests sent and not yet answered. */
  get load(): number {
    return this.pending.size;
  }

  /** Sends the request under a fresh id (the one in `message` is replaced) and resolves with its reply. */
  request(message: Request, transfer: ArrayBuffer[] = []): Promise<Extract<Reply, { ok: true }>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...message, id }, transfer);
    return reply as Promise<Extract<Reply, { ok: true }>>;
  }

  async close(): Promise<void> {
    this.failure ??= new Error(`${this.thread} was closed`);
    await this.worker.terminate();
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (!waiter) return;
    const answer: WorkerReply = reply;
    if (answer.ok) waiter.resolve(reply);
    else waiter.reject(new AppError(answer.code, answer.message));
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}

/** On the worker's side: the reply for a request that failed, which the channel rejects as an AppError. */
export function failedReply(id: number, error: unknown): WorkerReply & { ok: false } {
  const code = error instanceof AppError ? error.code : 'internal';
  return { id, ok: false, code, message: errorMessage(error) };
}

/** Buffers arrive from a worker as plain Uint8Arrays: this gives them Buffer's methods back, without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A result with map PNGs as it arrives from a worker: its type says Buffer, but structured clone delivered plain
 * Uint8Arrays; this gives them Buffer's methods back.
 */
export function withPngBuffers<T extends { mapPngs?: { classMap: Buffer; oodMap: Buffer } }>(result: T): T {
  const { mapPngs } = result;
  if (!mapPngs) return result;
  return { ...result, mapPngs: { classMap: asBuffer(mapPngs.classMap), oodMap: asBuffer(mapPngs.oodMap) } };
}
