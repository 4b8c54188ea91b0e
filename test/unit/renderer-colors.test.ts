import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayColor, luminance } from '../../src-renderer/src/ui/colors.js';

// CamVid's palette as the shipped cards give it.
const car = [64, 0, 128] as const;
const pedestrian = [64, 64, 0] as const;
const fence = [64, 64, 128] as const;
const tree = [128, 128, 0] as const;
const darkBackground = [10, 12, 15] as const;

/** WCAG contrast ratio of two colours. */
const contrast = (a: readonly [number, number, number], b: readonly [number, number, number]) => {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
};

test('the dark CamVid classes reach at least 3:1 contrast on the dark theme', () => {
  for (const colour of [car, pedestrian, fence]) {
    assert.ok(contrast(colour, darkBackground) < 2.5, `${colour.join(',')} starts nearly invisible`);
    const shown = displayColor(colour);
    assert.ok(contrast(shown, darkBackground) >= 3, `${colour.join(',')} is drawn as ${shown.join(',')}`);
  }
});

test('lifting keeps the hue and the order of lightness, so classes stay apart', () => {
  const [r, g, b] = displayColor(pedestrian);
  assert.equal(b, 0, 'pedestrian stays olive (no blue)');
  assert.equal(r, g);
  assert.ok(
    luminance(displayColor(pedestrian)) < luminance(displayColor(tree)) - 0.05,
    'pedestrian stays darker than tree',
  );
  const [cr, cg, cb] = displayColor(car);
  assert.ok(cb > cr && cr > cg, `car stays purple: ${[cr, cg, cb].join(',')}`);
  assert.deepEqual(displayColor([255, 255, 255]), [255, 255, 255]);
});
