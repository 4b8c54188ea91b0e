import { CHUNK_INDEX_STRIDE, type ChunkPlan } from '../../library/index.js';
import type { FootageSource } from '../../footage/index.js';

/** Footage per chunk when the caller does not choose: minutes of work for a CPU worker, seconds for a GPU. */
export const DEFAULT_CHUNK_SECONDS = 300;

/**
 * A session's chunks in timeline order: one per source, a long video cut into time ranges of `chunkSeconds`,
 * the last between half and one and a half of that (no chunk is a sliver). Image folders stay whole.
 */
export function planChunks(sources: FootageSource[], chunkSeconds = DEFAULT_CHUNK_SECONDS): ChunkPlan[] {
  const chunkMs = chunkSeconds * 1000;
  const plans: ChunkPlan[] = [];
  const add = (sourcePosition: number, fromMs: number | null, untilMs: number | null) =>
    plans.push({ chunk: plans.length, sourcePosition, fromMs, untilMs, firstIndex: plans.length * CHUNK_INDEX_STRIDE });
  for (const source of sources) {
    const pieces = source.kind === 'video' ? Math.max(1, Math.round(source.durationMs / chunkMs)) : 1;
    const cuts = Array.from({ length: pieces - 1 }, (_, i) => source.offsetMs + (i + 1) * chunkMs);
    for (let piece = 0; piece < pieces; piece++)
      add(source.position, piece === 0 ? null : cuts[piece - 1]!, piece === pieces - 1 ? null : cuts[piece]!);
  }
  return plans;
}
