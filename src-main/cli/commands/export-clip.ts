import type { ClipResult } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { EXPORT_OVERLAY_STYLE, exportClip, type OverlayStyle } from '../../export/index.js';
import type { Library } from '../../library/index.js';
import { numberFlag } from '../command.js';

/** The flags of `export` that ask for a clip instead of the flagged frames. */
export const clipOptions = {
  clip: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  overlay: { type: 'string' },
  opacity: { type: 'string' },
} as const;

export interface ClipFlags {
  clip?: string;
  from?: string;
  to?: string;
  overlay?: string;
  opacity?: string;
}

export const wantsClip = (flags: ClipFlags) =>
  flags.clip !== undefined || flags.from !== undefined || flags.to !== undefined;

const LAYERS = ['classes', 'heat', 'outline'] as const;

/** --overlay classes,heat,outline (any of them, or none) and --opacity 0..1; the export's overlay otherwise. */
function overlayStyle(flags: ClipFlags): OverlayStyle {
  const opacity = numberFlag('opacity', flags.opacity, EXPORT_OVERLAY_STYLE.opacity);
  if (opacity < 0 || opacity > 1)
    throw new AppError('usage', `--opacity must be between 0 and 1, got "${flags.opacity}"`);
  if (flags.overlay === undefined) return { ...EXPORT_OVERLAY_STYLE, opacity };
  const layers = flags.overlay === 'none' ? [] : flags.overlay.split(',').map((layer) => layer.trim());
  const unknown = layers.filter((layer) => !(LAYERS as readonly string[]).includes(layer));
  if (unknown.length)
    throw new AppError(
      'usage',
      `--overlay takes ${LAYERS.join(', ')} separated by commas, or none; got "${unknown.join(',')}"`,
    );
  return {
    classes: layers.includes('classes'),
    heat: layers.includes('heat'),
    outline: layers.includes('outline'),
    opacity,
  };
}

function positiveId(flag: string, value: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id <= 0)
    throw new AppError('usage', `--${flag} must be an id (a positive integer), got "${value}"`);
  return id;
}

/** `export --clip EVENT_ID` or `export --from MS --to MS`. */
export function runClipExport(
  library: Library,
  request: { sessionId: number; analysisId?: number; folder: string; name?: string },
  flags: ClipFlags,
  usage: string,
): Promise<ClipResult> {
  if (flags.clip !== undefined && (flags.from !== undefined || flags.to !== undefined))
    throw new AppError('usage', `Give --clip EVENT_ID or --from MS --to MS, not both. Usage: dmlreview ${usage}`);
  if (flags.clip === undefined && (flags.from === undefined || flags.to === undefined))
    throw new AppError('usage', `--from and --to go together (ms of session time). Usage: dmlreview ${usage}`);
  const range =
    flags.clip !== undefined
      ? { eventId: positiveId('clip', flags.clip) }
      : { fromMs: numberFlag('from', flags.from, 0), toMs: numberFlag('to', flags.to, 0) };
  return exportClip(
    { ...request, ...range, overlay: overlayStyle(flags) },
    {
      library,
      onProgress: (done, total) => process.stderr.isTTY && process.stderr.write(`\rencoding frame ${done}/${total}`),
    },
  );
}

export function describeClip(result: ClipResult): string {
  const seconds = (result.frames / result.fps).toFixed(2);
  return `Wrote a ${seconds} s clip (${result.frames} frames at ${result.fps} fps, ${result.width}x${result.height}) to ${result.path}/${result.video}\n`;
}
