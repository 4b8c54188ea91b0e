// Drive time <-> a source video's own time, and whether a session can be played from its videos at all.
// Imports carry .js so this module also typechecks under NodeNext (its unit test runs it in Node).
import type { SourceFile } from '../../../src-shared/contract/index.js';

/** A point inside one source video: its position in the session and the video's own time in seconds. */
export interface SourcePoint {
  position: number;
  seconds: number;
}

/**
 * The source at drive time `driveMs` and how far into it: sources lie end to end at their offsets; a time
 * past the last one is its end, a time before the first its start.
 */
export function sourceAt(
  sources: readonly Pick<SourceFile, 'offsetMs' | 'durationMs'>[],
  driveMs: number,
): SourcePoint {
  let position = 0;
  while (position + 1 < sources.length && driveMs >= sources[position + 1]!.offsetMs) position++;
  const source = sources[position];
  if (!source) return { position: 0, seconds: 0 };
  const intoMs = Math.min(Math.max(0, driveMs - source.offsetMs), source.durationMs);
  return { position, seconds: intoMs / 1000 };
}

/** Drive time of a source video's own time. */
export function driveTimeOf(sources: readonly Pick<SourceFile, 'offsetMs'>[], point: SourcePoint): number {
  return (sources[point.position]?.offsetMs ?? 0) + point.seconds * 1000;
}

/**
 * Why this session cannot be played from its source videos (shown as a note), undefined when it can be
 * tried: image folders have no video, and a session that mixes both would switch display halfway.
 */
export function whyNotPlayable(sources: readonly Pick<SourceFile, 'kind'>[]): string | undefined {
  if (sources.length === 0) return 'No source video: playback steps through the analysed frames.';
  if (sources.some((source) => source.kind !== 'video'))
    return 'Image-folder footage: playback steps through the analysed frames.';
  return undefined;
}
