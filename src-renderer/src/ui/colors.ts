// Class colours as drawn on the dark theme. Imports carry .js so this module also runs under Node (unit test).

type Rgb = readonly [number, number, number];

/** The darkest colour a class is drawn in: relative luminance (WCAG) 0 becomes this. */
const LUMINANCE_FLOOR = 0.12;

function channelLuminance(value: number): number {
  const v = value / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance, 0 (black) to 1 (white). */
export function luminance([r, g, b]: Rgb): number {
  return 0.2126 * channelLuminance(r) + 0.7152 * channelLuminance(g) + 0.0722 * channelLuminance(b);
}

/**
 * The colour a class is drawn in on the dark theme. Dataset palettes (CamVid's car 64,0,128, pedestrian
 * 64,64,0, fence 64,64,128) are nearly black there. Luminance L is mapped to FLOOR + (1 - FLOOR) L with the
 * hue kept, by raising HSL lightness: dark colours rise most, light ones hardly move, and the order of
 * lightness between classes (pedestrian darker than tree) is kept, so no two classes become one.
 */
export function displayColor(rgb: Rgb): [number, number, number] {
  const target = LUMINANCE_FLOOR + (1 - LUMINANCE_FLOOR) * luminance(rgb);
  const [h, s, l] = toHsl(rgb);
  let [low, high] = [l, 1];
  for (let step = 0; step < 20; step++) {
    const middle = (low + high) / 2;
    if (luminance(fromHsl(h, s, middle)) < target) low = middle;
    else high = middle;
  }
  return fromHsl(h, s, high);
}

function toHsl([r, g, b]: Rgb): [number, number, number] {
  const [rn, gn, bn] = [r / 255, g / 255, b / 255];
  const max = Math.max(rn, gn, bn);
  const min = Math.min(rn, gn, bn);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === rn ? (gn - bn) / d + (gn < bn ? 6 : 0) : max === gn ? (bn - rn) / d + 2 : (rn - gn) / d + 4;
  return [h / 6, s, l];
}

function fromHsl(h: number, s: number, l: number): [number, number, number] {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}
