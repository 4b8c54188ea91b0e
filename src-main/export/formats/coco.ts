/**
 * COCO: annotations.json beside images/. One image entry per flagged frame; each unknown region large enough to
 * score is an instance of category "unknown" with its mask as compressed RLE at the source resolution, its
 * box, area and score, and the frame's flags (category, note) as attributes; with `semantic`, every known
 * class present in a frame is one more annotation of that class's category (COCO-Stuff's way).
 */
import type { Flag } from '../../../src-shared/contract/index.js';
import { appVersion } from '../../core/version.js';
import { sourceClassIds, sourceRegionLabels, type FlaggedFrame } from './frame-data.js';
import type { FormatContext, FormatWriter } from './index.js';
import { encodeMask } from './rle.js';

export const UNKNOWN_CATEGORY_ID = 1;
/** Category id of known class `index`: after "unknown". */
export const classCategoryId = (index: number) => index + 2;

/** The flags of a frame as annotation attributes: categories and notes, each joined when several. */
export function flagAttributes(flags: readonly Flag[]) {
  return {
    flag_category: [...new Set(flags.map((flag) => flag.category))].join(', '),
    note: flags
      .map((flag) => flag.note)
      .filter(Boolean)
      .join(' | '),
    flag_ids: flags.map((flag) => flag.id),
  };
}

export function cocoWriter({ session, analysis, createdAt, semantic }: FormatContext): FormatWriter {
  const images: object[] = [];
  const annotations: object[] = [];
  const annotate = (imageId: number, categoryId: number, mask: ReturnType<typeof encodeMask>, extra: object) =>
    annotations.push({
      id: annotations.length + 1,
      image_id: imageId,
      category_id: categoryId,
      segmentation: mask.rle,
      area: mask.area,
      bbox: mask.bbox,
      iscrowd: 0,
      ...extra,
    });

  const writeFrame = async (put: Parameters<FormatWriter['writeFrame']>[0], frame: FlaggedFrame) => {
    const file = `images/${frame.stem}.png`;
    await put(file, frame.original);
    const imageId = images.length + 1;
    images.push({
      id: imageId,
      file_name: `${frame.stem}.png`,
      width: frame.width,
      height: frame.height,
      frame_index: frame.frameIndex,
      time_ms: frame.timeMs,
    });
    const attributes = flagAttributes(frame.flags);
    const regionLabels = sourceRegionLabels(frame);
    for (const { label, region } of frame.regions) {
      annotate(imageId, UNKNOWN_CATEGORY_ID, encodeMask(regionLabels, frame.width, frame.height, label), {
        score: region.score,
        attributes: { ...attributes, mean_score: region.meanScore, place: region.place },
      });
    }
    if (semantic) {
      const ids = sourceClassIds(frame);
      const present = new Set(ids);
      for (const info of analysis.classes)
        if (present.has(info.index))
          annotate(imageId, classCategoryId(info.index), encodeMask(ids, frame.width, frame.height, info.index), {});
    }
    return { frame: file };
  };

  return {
    index: 'annotations.json',
    writeFrame,
    async finish(put) {
      const categories = [
        { id: UNKNOWN_CATEGORY_ID, name: 'unknown', supercategory: 'unknown' },
        ...(semantic
          ? analysis.classes.map((info) => ({
              id: classCategoryId(info.index),
              name: info.name,
              supercategory: 'class',
            }))
          : []),
      ];
      const info = {
        description: `Flagged frames of session "${session.name}" (model ${analysis.modelName}, analysis ${analysis.id})`,
        version: '1.0',
        year: Number(createdAt.slice(0, 4)),
        contributor: `dmlreview ${appVersion()}`,
        url: '',
        date_created: createdAt,
      };
      await put('annotations.json', `${JSON.stringify({ info, licenses: [], images, annotations, categories })}\n`);
    },
  };
}
