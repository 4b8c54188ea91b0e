/**
 * The interchange formats: each writes the flagged frames for another tool (docs/exports.md). A writer gets
 * the frames one at a time, so an export holds one frame's full-resolution data in memory at a time.
 */
import type { AnalysisInfo, ExportFormat, SessionInfo } from '../../../src-shared/contract/index.js';
import type { PutFile } from '../atomic.js';
import { cocoWriter } from './coco.js';
import { cvatWriter } from './cvat.js';
import type { FlaggedFrame } from './frame-data.js';
import { camvidWriter, cityscapesWriter, fiftyoneWriter } from './labels.js';

export { loadFlaggedFrame, frameStem, storedMapPng, type FlaggedFrame } from './frame-data.js';

export type InterchangeFormat = Exclude<ExportFormat, 'folder'>;

export interface FormatContext {
  session: SessionInfo;
  analysis: AnalysisInfo;
  createdAt: string;
  /** COCO: the known classes as semantic segments too. */
  semantic: boolean;
}

/** Files written for one frame, relative to the export folder. */
export interface FrameFiles {
  frame: string;
  label?: string;
}

export interface FormatWriter {
  /** The file to open or import first. */
  index: string;
  writeFrame(put: PutFile, frame: FlaggedFrame): Promise<FrameFiles>;
  /** Writes what covers every frame (annotation file, id table) after the last frame. */
  finish(put: PutFile): Promise<void>;
}

export const formatWriters: Record<InterchangeFormat, (context: FormatContext) => FormatWriter> = {
  coco: cocoWriter,
  cityscapes: cityscapesWriter,
  camvid: camvidWriter,
  fiftyone: fiftyoneWriter,
  cvat: cvatWriter,
};
