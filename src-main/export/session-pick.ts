import type { AnalysisInfo, SessionInfo } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import type { Library } from '../library/index.js';

/** The analysis an export reads: the one asked for (which must be the session's), else the session's latest. */
export async function pickAnalysis(
  library: Library,
  session: SessionInfo,
  analysisId: number | undefined,
): Promise<AnalysisInfo> {
  if (analysisId === undefined) {
    if (!session.latestAnalysis)
      throw new AppError(
        'not_found',
        `Session "${session.name}" has not been analysed: analyse it, flag frames, then export`,
      );
    return session.latestAnalysis;
  }
  const analysis = await library.analyses.get(analysisId);
  if (analysis.sessionId !== session.id)
    throw new AppError(
      'invalid_request',
      `Analysis ${analysisId} belongs to session ${analysis.sessionId}, not to session ${session.id}`,
    );
  return analysis;
}

/**
 * A session name made safe as part of a folder name on every platform. A video's extension is dropped
 * ("drive.mp4" gives "drive"): a folder named like a file misleads file managers and people.
 */
export function safeName(name: string): string {
  return (
    name
      .replace(/\.(mp4|mov|mkv|avi|webm|m4v|ts|mts)\b/gi, '')
      .replace(/[^\w.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 60) || 'session'
  );
}
