// The neighbours layout of layout-thread.ts, one request per thread.
import { parentPort } from 'node:worker_threads';
import { failedReply } from '../core/worker-channel.js';
import type { LayoutReply, LayoutRequest } from './layout-thread.js';
import { layoutByNeighbours, neighboursKept } from './neighbour-layout.js';

const port = parentPort!;
port.on('message', ({ id, rows, dim }: LayoutRequest) => {
  try {
    const { positions, lists } = layoutByNeighbours(rows, dim);
    const reply: LayoutReply = { id, ok: true, positions, neighboursKept: neighboursKept(lists, positions) };
    port.postMessage(reply, [positions.buffer]);
  } catch (error) {
    port.postMessage(failedReply(id, error));
  }
});
