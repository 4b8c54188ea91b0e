/**
 * Label PNGs: 8-bit grayscale, one class id per source pixel: the model's class index for known pixels,
 * UNKNOWN_LABEL_ID for unknown ones; the id table (classes.json) lies beside them. Three layouts of them:
 * Cityscapes (leftImg8bit/ + gtFine/ *_gtFine_labelTrainIds.png), CamVid (images/ + labels/ + classes.json)
 * and FiftyOne's image-segmentation directory (data/ + labels/ with matching names).
 */
import type { AnalysisInfo } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { encodeGrayPng, UNKNOWN_CLASS } from '../../engine/index.js';
import type { PutFile } from '../atomic.js';
import { sourceClassIds, type FlaggedFrame } from './frame-data.js';
import type { FormatContext, FormatWriter } from './index.js';

/** Label id of unknown pixels: the training package's OOD id (training/dmlnet/data.py). */
export const UNKNOWN_LABEL_ID = 254;
/** Label id no exported pixel has; readers that need an ignore id get this one. */
export const IGNORE_LABEL_ID = 255;
const UNKNOWN_COLOR: [number, number, number] = [255, 40, 40];

/** Class ids at the source resolution, unknown as UNKNOWN_LABEL_ID. */
export function labelIds(frame: FlaggedFrame): Uint8Array {
  const ids = sourceClassIds(frame);
  for (let i = 0; i < ids.length; i++) if (ids[i] === UNKNOWN_CLASS) ids[i] = UNKNOWN_LABEL_ID;
  return ids;
}

/** The id table, in the CamVid reader's classes.json form (training/dmlnet/data.py read_camvid). */
export function idTable(analysis: AnalysisInfo) {
  const clash = analysis.classes.find((info) => info.index === UNKNOWN_LABEL_ID);
  if (clash)
    throw new AppError(
      'export_format_unsupported',
      `Class "${clash.name}" has index ${UNKNOWN_LABEL_ID}, the label id of unknown pixels: export as folder or coco instead`,
    );
  return {
    name: `dmlreview labels of ${analysis.modelName}`,
    ignoreIndex: IGNORE_LABEL_ID,
    unknownIndex: UNKNOWN_LABEL_ID,
    classes: [
      ...analysis.classes.map(({ index, name, color }) => ({ id: index, name, color })),
      { id: UNKNOWN_LABEL_ID, name: 'unknown', color: UNKNOWN_COLOR },
    ],
  };
}

function labelPng(frame: FlaggedFrame): Buffer {
  return encodeGrayPng(labelIds(frame), frame.width, frame.height);
}

/** A label layout: where a frame's image and label go. */
function labelWriter(
  { analysis }: FormatContext,
  paths: (stem: string) => { frame: string; label: string },
  writeTable: (put: PutFile, table: ReturnType<typeof idTable>) => Promise<unknown>,
): FormatWriter {
  const table = idTable(analysis);
  return {
    index: 'classes.json',
    async writeFrame(put, frame) {
      const files = paths(frame.stem);
      await put(files.frame, frame.original);
      await put(files.label, labelPng(frame));
      return files;
    },
    finish: (put) => writeTable(put, table).then(() => undefined),
  };
}

const tableJson = (table: unknown) => `${JSON.stringify(table, null, 2)}\n`;

/** Cityscapes' layout, split "flagged", the session as the city. */
export function cityscapesWriter(context: FormatContext): FormatWriter {
  const city = `session-${context.session.id}`;
  return labelWriter(
    context,
    (stem) => ({
      frame: `leftImg8bit/flagged/${city}/${stem}_leftImg8bit.png`,
      label: `gtFine/flagged/${city}/${stem}_gtFine_labelTrainIds.png`,
    }),
    (put, table) => put('classes.json', tableJson(table)),
  );
}

/** CamVid's layout as in ../shared/datasets/camvid, the export folder being the split. */
export function camvidWriter(context: FormatContext): FormatWriter {
  return labelWriter(
    context,
    (stem) => ({ frame: `images/${stem}.png`, label: `labels/${stem}.png` }),
    (put, table) => put('classes.json', tableJson(table)),
  );
}

/** FiftyOne's ImageSegmentationDirectory; mask_targets.json is the id table in FiftyOne's form. */
export function fiftyoneWriter(context: FormatContext): FormatWriter {
  const writer = labelWriter(
    context,
    (stem) => ({ frame: `data/${stem}.png`, label: `labels/${stem}.png` }),
    async (put, table) => {
      await put('classes.json', tableJson(table));
      await put('mask_targets.json', tableJson(Object.fromEntries(table.classes.map((info) => [info.id, info.name]))));
    },
  );
  return { ...writer, index: 'mask_targets.json' };
}
