import { AppError } from '../core/errors.js';
import type { RgbFrame } from './types.js';

/** Refuses frames whose buffer does not hold width x height rgb24 pixels, saying what it holds instead. */
export function checkFrame(frame: RgbFrame): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new AppError('frame_invalid', `Frame size ${width}x${height} is not a positive integer size`);
  }
  const pixels = width * height;
  if (data.length !== pixels * 3) {
    const perPixel = data.length / pixels;
    const what = Number.isInteger(perPixel) ? `${perPixel} channels per pixel` : `${data.length} bytes`;
    throw new AppError(
      'frame_invalid',
      `Frame ${width}x${height} must hold ${pixels * 3} bytes of RGB (3 channels), got ${what}`,
    );
  }
}

/** Source index pairs and weights of a bilinear resize along one axis (PyTorch, align_corners=false). */
export interface AxisTable {
  lower: Int32Array;
  upper: Int32Array;
  upperWeight: Float32Array;
}

export function axisTable(inLength: number, outLength: number): AxisTable {
  const table = {
    lower: new Int32Array(outLength),
    upper: new Int32Array(outLength),
    upperWeight: new Float32Array(outLength),
  };
  const scale = inLength / outLength;
  for (let i = 0; i < outLength; i++) {
    const source = Math.max(0, (i + 0.5) * scale - 0.5);
    const lower = Math.min(Math.floor(source), inLength - 1);
    table.lower[i] = lower;
    table.upper[i] = lower < inLength - 1 ? lower + 1 : lower;
    table.upperWeight[i] = source - lower;
  }
  return table;
}

/**
 * RGB frame -> normalised float32 NCHW tensor at the model's input size, in one preallocated buffer.
 * Bilinear resize on the 8-bit values, then (v/255 - mean)/std: both steps are affine per channel, so the
 * order matches training (normalise, then resize) up to float rounding.
 */
export class Preprocessor {
  readonly tensor: Float32Array;
  private readonly gain: Float32Array;
  private readonly offset: Float32Array;
  private tables: { sourceWidth: number; sourceHeight: number; x: AxisTable; y: AxisTable } | undefined;

  constructor(
    readonly width: number,
    readonly height: number,
    mean: readonly number[],
    std: readonly number[],
  ) {
    this.tensor = new Float32Array(3 * width * height);
    this.gain = Float32Array.from(std, (s) => 1 / (255 * s));
    this.offset = Float32Array.from(mean, (m, c) => -m / (std[c] ?? 1));
  }

  run(frame: RgbFrame): Float32Array {
    checkFrame(frame);
    if (frame.width === this.width && frame.height === this.height) this.normaliseOnly(frame.data);
    else this.resizeAndNormalise(frame);
    return this.tensor;
  }

  private normaliseOnly(data: Uint8Array): void {
    const plane = this.width * this.height;
    const out = this.tensor;
    for (let c = 0; c < 3; c++) {
      const gain = this.gain[c]!;
      const offset = this.offset[c]!;
      const base = c * plane;
      for (let i = 0, j = c; i < plane; i++, j += 3) out[base + i] = data[j]! * gain + offset;
    }
  }

  private tablesFor(frame: RgbFrame) {
    const cached = this.tables;
    if (cached && cached.sourceWidth === frame.width && cached.sourceHeight === frame.height) return cached;
    this.tables = {
      sourceWidth: frame.width,
      sourceHeight: frame.height,
      x: axisTable(frame.width, this.width),
      y: axisTable(frame.height, this.height),
    };
    return this.tables;
  }

  private resizeAndNormalise(frame: RgbFrame): void {
    const { x, y } = this.tablesFor(frame);
    const data = frame.data;
    const stride = frame.width * 3;
    const plane = this.width * this.height;
    const out = this.tensor;
    for (let c = 0; c < 3; c++) {
      const gain = this.gain[c]!;
      const offset = this.offset[c]!;
      for (let oy = 0; oy < this.height; oy++) {
        const row0 = y.lower[oy]! * stride + c;
        const row1 = y.upper[oy]! * stride + c;
        const wy = y.upperWeight[oy]!;
        const base = c * plane + oy * this.width;
        for (let ox = 0; ox < this.width; ox++) {
          const x0 = x.lower[ox]! * 3;
          const x1 = x.upper[ox]! * 3;
          const wx = x.upperWeight[ox]!;
          const top = data[row0 + x0]! + (data[row0 + x1]! - data[row0 + x0]!) * wx;
          const bottom = data[row1 + x0]! + (data[row1 + x1]! - data[row1 + x0]!) * wx;
          out[base + ox] = (top + (bottom - top) * wy) * gain + offset;
        }
      }
    }
  }
}
