/** Nearest-neighbour resize of a one-byte-per-pixel map (labels, masks) to the model's output size. */
export function resizeNearest(
  values: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
): Uint8Array {
  if (width === toWidth && height === toHeight) return values;
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0; y < toHeight; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / toHeight)) * width;
    for (let x = 0; x < toWidth; x++)
      out[y * toWidth + x] = values[row + Math.min(width - 1, Math.floor(((x + 0.5) * width) / toWidth))]!;
  }
  return out;
}
