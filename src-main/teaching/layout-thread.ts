import type { ErrorCode } from '../../src-shared/contract/index.js';
import { WorkerChannel } from '../core/worker-channel.js';
import { startWorker } from '../core/workers.js';

export type LayoutRequest = { id: number; rows: Float32Array; dim: number };
export type LayoutReply =
  | { id: number; ok: true; positions: Float32Array<ArrayBuffer>; neighboursKept: number }
  | { id: number; ok: false; code: ErrorCode; message: string };

/**
 * The neighbours layout of `rows` (neighbour-layout.ts) on a thread of its own, started for the one request:
 * about a second and a half for 5,000 points, which the thread that answers the app's requests must not spend.
 * `rows` is transferred to the thread: the caller passes a copy it no longer needs.
 */
export async function layoutOffThread(
  rows: Float32Array<ArrayBuffer>,
  dim: number,
): Promise<{ positions: Float32Array<ArrayBuffer>; neighboursKept: number }> {
  const channel = new WorkerChannel<LayoutRequest, LayoutReply>(
    startWorker('teaching/layout.worker.ts', undefined),
    'the metric-space layout thread',
  );
  try {
    const { positions, neighboursKept } = await channel.request({ id: 0, rows, dim }, [rows.buffer]);
    return { positions, neighboursKept };
  } finally {
    await channel.close();
  }
}
