/**
 * A 5x7 pixel font for the few characters burnt into clips (times, scores, labels). Node has no font renderer
 * and ffmpeg's drawtext needs a font file that a packaged app may not find; 20 glyphs drawn by hand need none.
 */
const GLYPHS: Record<string, readonly string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  ':': ['00000', '01100', '01100', '00000', '01100', '01100', '00000'],
  '.': ['00000', '00000', '00000', '00000', '00000', '01100', '01100'],
  '-': ['00000', '00000', '00000', '11111', '00000', '00000', '00000'],
  '/': ['00001', '00010', '00010', '00100', '01000', '01000', '10000'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
  C: ['01110', '10001', '10000', '10000', '10000', '10001', '01110'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  O: ['01110', '10001', '10001', '10001', '10001', '10001', '01110'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  S: ['01111', '10000', '10000', '01110', '00001', '00001', '11110'],
};

/** An RGBA image to draw on. */
type Canvas = { width: number; height: number; data: Uint8Array };
type Color = readonly [number, number, number];

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character, in font pixels (one blank column between glyphs). */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

/** Width in image pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale: number): number {
  return text.length * GLYPH_ADVANCE * scale;
}

/**
 * Draws `text` into an RGBA image with its top-left corner at (x, y), each font pixel a scale x scale square.
 * Characters without a glyph are refused: a clip must not silently lose part of its caption.
 */
export function drawText(image: Canvas, text: string, x: number, y: number, scale: number, color: Color): void {
  for (const [position, character] of [...text].entries()) {
    const glyph = GLYPHS[character];
    if (!glyph) throw new Error(`The clip font has no glyph for ${JSON.stringify(character)}`);
    const left = x + position * GLYPH_ADVANCE * scale;
    for (let row = 0; row < GLYPH_HEIGHT; row++)
      for (let column = 0; column < GLYPH_WIDTH; column++)
        if (glyph[row]![column] === '1') fillRect(image, left + column * scale, y + row * scale, scale, scale, color);
  }
}

/** Fills a rectangle of an RGBA image, clipped to the image. */
export function fillRect(image: Canvas, x: number, y: number, width: number, height: number, color: Color): void {
  const [x0, y0] = [Math.max(0, Math.round(x)), Math.max(0, Math.round(y))];
  const [x1, y1] = [Math.min(image.width, Math.round(x + width)), Math.min(image.height, Math.round(y + height))];
  for (let row = y0; row < y1; row++)
    for (let column = x0; column < x1; column++) {
      const offset = (row * image.width + column) * 4;
      image.data[offset] = color[0];
      image.data[offset + 1] = color[1];
      image.data[offset + 2] = color[2];
      image.data[offset + 3] = 255;
    }
}
