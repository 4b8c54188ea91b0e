import { isAnalysisFinished } from '../../../src-shared/contract/index.js';
import { isChunkFinished, type Library } from '../../library/index.js';

/**
 * Ends an analysis whose chunks have all ended, once, whichever worker gets here first (the analysis's row
 * lock orders them; the others find it ended). Its frames, stored per chunk in index ranges of their own, are
 * numbered contiguously and its timeline packed again in the same transaction, then flags are carried and
 * events found as at the end of a local run: the analysis then holds what one uninterrupted run stores. A
 * chunk that failed for good fails the analysis, its frames kept where they are for a resume.
 */
export async function endIfLastChunk(store: Library, analysisId: number): Promise<boolean> {
  return store.transaction(async () => {
    await store.chunks.lockAnalysis(analysisId);
    const info = await store.analyses.get(analysisId);
    if (isAnalysisFinished(info.status)) return false;
    const chunks = await store.chunks.list(analysisId);
    if (chunks.length === 0 || chunks.some((chunk) => !isChunkFinished(chunk.status))) return false;
    const finishedAt = new Date().toISOString();
    const failed = chunks.filter((chunk) => chunk.status === 'failed');
    if (failed.length > 0) {
      const message = unique(failed.map((chunk) => chunk.message)) ?? 'a chunk failed';
      await store.analyses.update(analysisId, { status: 'failed', message, etaSeconds: null, finishedAt });
      return true;
    }
    await store.frames.renumber(
      analysisId,
      chunks.map((chunk) => chunk.firstIndex),
    );
    await store.flags.carry(analysisId);
    await store.events.finish(analysisId);
    const message = unique(chunks.map((chunk) => chunk.message));
    const { framesDone } = await store.analyses.get(analysisId);
    await store.analyses.update(analysisId, {
      status: message ? 'partial' : 'done',
      message,
      framesTotal: framesDone,
      etaSeconds: null,
      finishedAt,
    });
    return true;
  });
}

/** The chunks' messages in timeline order, each once, as a local run joins its problems. */
function unique(messages: (string | null)[]): string | null {
  const kept = [...new Set(messages.filter((message): message is string => Boolean(message)))];
  return kept.length > 0 ? kept.join('; ') : null;
}

/**
 * Numbers the frames of the chunks done so far from the start of the drive up to the first chunk not done, so
 * that the timeline of a running analysis (frames.timeline) grows chunk by chunk instead of showing the first
 * chunk alone until the end. The frames of later chunks keep their ranges; the last chunk's worker numbers
 * the rest (endIfLastChunk), and a worker that dies before calling this leaves it to the next chunk's.
 */
export async function numberDoneChunks(store: Library, analysisId: number): Promise<void> {
  await store.transaction(async () => {
    await store.chunks.lockAnalysis(analysisId);
    if (isAnalysisFinished((await store.analyses.get(analysisId)).status)) return;
    const chunks = await store.chunks.list(analysisId);
    const firstNotDone = chunks.findIndex((chunk) => chunk.status !== 'done');
    if (firstNotDone <= 0) return; // the first chunk is not done yet, or none is left (endIfLastChunk's part)
    await store.frames.renumber(
      analysisId,
      chunks.slice(0, firstNotDone).map((chunk) => chunk.firstIndex),
      chunks[firstNotDone]!.firstIndex,
    );
  });
}
