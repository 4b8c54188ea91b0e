/**
 * The OOD heat map's colours, one RGBA entry per stored score value (round(score * 255)): a perceptual ramp,
 * dark red -> orange -> yellow -> white, whose low scores fade out so the frame shows. The viewer paints its
 * heat layer with it and exports burn the same colours into clips.
 */
export const HEAT_RAMP: Uint8ClampedArray = (() => {
  const ramp = new Uint8ClampedArray(256 * 4);
  for (let value = 0; value < 256; value++) {
    const t = value / 255;
    ramp[value * 4] = 255 * Math.min(1, t * 2.2);
    ramp[value * 4 + 1] = 255 * Math.max(0, Math.min(1, (t - 0.35) * 1.9));
    ramp[value * 4 + 2] = 255 * Math.max(0, (t - 0.8) * 5);
    ramp[value * 4 + 3] = 220 * Math.max(0, Math.min(1, (t - 0.35) * 2.2));
  }
  return ramp;
})();
