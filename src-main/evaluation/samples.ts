import { existsSync, readdirSync } from 'node:fs';
import { extname, join, parse } from 'node:path';
import { AppError } from '../core/errors.js';

export interface Sample {
  name: string;
  image: string;
  label: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

/**
 * Images in `imagesDir` (name order) paired with labelsDir/STEM.png, or the one labelsDir/STEM_*.png (as
 * SegmentMeIfYouCan's STEM_labels_semantic.png); a missing label is an error naming both. `flags` name the
 * command-line options the folders came from.
 */
export function listSamples(
  imagesDir: string,
  labelsDir: string,
  flags: { images: string; labels: string } = { images: '--images', labels: '--labels' },
): Sample[] {
  for (const [flag, dir] of [
    [flags.images, imagesDir],
    [flags.labels, labelsDir],
  ] as const) {
    if (!existsSync(dir)) throw new AppError('eval_folder_missing', `${flag} ${dir}: folder not found`);
  }
  const images = readdirSync(imagesDir)
    .filter((file) => IMAGE_EXTENSIONS.has(extname(file).toLowerCase()))
    .sort();
  if (images.length === 0) throw new AppError('eval_no_images', `${flags.images} ${imagesDir}: no .jpg or .png images`);
  const labels = readdirSync(labelsDir).filter((file) => file.toLowerCase().endsWith('.png'));
  return images.map((file) => {
    const stem = parse(file).name;
    const suffixed = labels.filter((label) => label.startsWith(`${stem}_`));
    const label = labels.includes(`${stem}.png`) ? `${stem}.png` : suffixed.length === 1 ? suffixed[0] : undefined;
    if (!label)
      throw new AppError(
        'eval_label_missing',
        `Image ${join(imagesDir, file)} has no label (expected ${join(labelsDir, `${stem}.png`)})`,
      );
    return { name: file, image: join(imagesDir, file), label: join(labelsDir, label) };
  });
}

/** A folder in the CamVid layout: DIR/images/NAME.jpg|png with DIR/labels/NAME.png; `flag` is the option that named DIR. */
export function listCamvidSamples(dir: string, flag: string): Sample[] {
  return listSamples(join(dir, 'images'), join(dir, 'labels'), { images: flag, labels: flag });
}

/** The sample's name without its extension. */
export function sampleStem(sample: Sample): string {
  return parse(sample.name).name;
}
