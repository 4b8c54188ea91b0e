import { isAnalysisFinished } from '../../../src-shared/contract/index.js';
import { isChunkFinished, type Library } from '../../library/index.js';

/**
 * Brings an analysis up to date with its chunks, under the analysis's row lock (whichever worker gets here
 * first; the others find the work done). Its frames, stored per chunk in index ranges of their own, are
 * numbered contiguously up to the first chunk not done, so that the timeline of a running analysis grows chunk
 * by chunk instead of showing the first chunk alone until the end; later chunks keep their ranges. Once every
 * chunk has ended, the analysis is ended in the same transaction: all its frames numbered and its timeline
 * packed again, flags carried and events found as at the end of a local run, so that it holds what one
 * uninterrupted run stores. A chunk that failed for good fails the analysis, its frames kept where they are
 * for a resume. True when this call ended it.
 */
export async function settleChunks(store: Library, analysisId: number): Promise<boolean> {
  return store.transaction(async () => {
    await store.chunks.lockAnalysis(analysisId);
    const info = await store.analyses.get(analysisId);
    if (isAnalysisFinished(info.status)) return false;
    const chunks = await store.chunks.list(analysisId);
    if (chunks.length === 0) return false;
    const firstNotDone = chunks.findIndex((chunk) => chunk.status !== 'done');
    if (chunks.some((chunk) => !isChunkFinished(chunk.status))) {
      // The first chunk not done is still running (the chunks before it are done): number those.
      if (firstNotDone > 0)
        await store.frames.renumber(
          analysisId,
          chunks.slice(0, firstNotDone).map((chunk) => chunk.firstIndex),
          chunks[firstNotDone]!.firstIndex,
        );
      return false;
    }
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
