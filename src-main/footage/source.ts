import type { SourceFile } from '../../src-shared/contract/index.js';

/** A source file placed in a session's timeline: its public description plus what decoding needs. */
export interface FootageSource extends SourceFile {
  position: number;
  startMs: number;
  codec: string | null;
  /** Image folders: file names (inside path) in timeline order. */
  images: string[] | null;
}

/** What probing a file or folder finds, before it has a place in a session. */
export type ProbedSource = Omit<FootageSource, 'position' | 'offsetMs'>;
