import { axisTable } from '../engine/preprocess.js';

/**
 * Maps at the model's output size -> the label's size, when they differ (anomaly benchmarks of any size):
 * scores bilinearly (PyTorch align_corners=false), class indices by nearest neighbour.
 */
export function resizeScores(
  scores: Float32Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const x = axisTable(width, outWidth);
  const y = axisTable(height, outHeight);
  for (let oy = 0; oy < outHeight; oy++) {
    const row0 = y.lower[oy]! * width;
    const row1 = y.upper[oy]! * width;
    const wy = y.upperWeight[oy]!;
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = x.lower[ox]!;
      const x1 = x.upper[ox]!;
      const wx = x.upperWeight[ox]!;
      const top = scores[row0 + x0]! + (scores[row0 + x1]! - scores[row0 + x0]!) * wx;
      const bottom = scores[row1 + x0]! + (scores[row1 + x1]! - scores[row1 + x0]!) * wx;
      out[oy * outWidth + ox] = top + (bottom - top) * wy;
    }
  }
  return out;
}

export function resizeNearest(
  values: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.floor((y * height) / outHeight));
    for (let x = 0; x < outWidth; x++)
      out[y * outWidth + x] = values[sy * width + Math.min(width - 1, Math.floor((x * width) / outWidth))]!;
  }
  return out;
}
