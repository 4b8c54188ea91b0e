import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricHead, type HeadSettings } from '../../src-main/engine/metric-head.js';
import { UNKNOWN_CLASS, type ScoreName } from '../../src-main/engine/types.js';

const T = 3;
/** Two known classes in a 2-D embedding, prototypes T*e_t as DMLNet's. */
const PROTOTYPES = [
  [T, 0],
  [0, T],
];

function settings(score: ScoreName, overrides: Partial<HeadSettings> = {}): HeadSettings {
  return {
    kind: 'embedding',
    knownCount: 2,
    dim: 2,
    prototypes: PROTOTYPES,
    score,
    sMax: 36,
    sFloor: 0,
    beta: 20,
    gamma: 0.8,
    gMax: 6,
    threshold: 0.6,
    source: 'test.onnx',
    ...overrides,
  };
}

/** Pixels given as [x, y] embedding vectors -> channel-major D x N output. */
function channelMajor(pixels: number[][]): Float32Array {
  const dim = pixels[0]!.length;
  const out = new Float32Array(dim * pixels.length);
  pixels.forEach((vector, p) => vector.forEach((value, c) => (out[c * pixels.length + p] = value)));
  return out;
}

/** The paper's formulas, written out directly (independent of the engine's sum-of-dot-products form). */
function expectedScores(f: number[], sFloor = 0, sMax = 36, beta = 20, gamma = 0.8, gMax = 6) {
  const d = PROTOTYPES.map((m) => m.reduce((sum, value, c) => sum + (f[c]! - value) ** 2, 0));
  const exps = d.map((value) => Math.exp(-value));
  const maxProbability = Math.max(...exps) / exps.reduce((a, b) => a + b, 0);
  const mmsp = 1 - maxProbability;
  const sum = d.reduce((a, b) => a + b, 0);
  const eds = (sMax - Math.min(sum, sMax)) / (sMax - sFloor);
  const alpha = 1 / (1 + Math.exp(-beta * (eds - gamma)));
  const margin = 1 - Math.min(sum / d.length - Math.min(...d), gMax) / gMax;
  return { d, eds, mmsp, combined: alpha * eds + (1 - alpha) * mmsp, margin, nearest: d.indexOf(Math.min(...d)) };
}

const PIXELS = [
  [3, 0], // on prototype 0: d = [0, 18]
  [0.2, 2.7], // near prototype 1
  [1.5, 1.5], // equidistant: d = [4.5, 4.5]
  [0, 0], // the origin, where DMLNet puts unknowns: d = [9, 9]
  [6, 6], // far from both: S above sMax
];

// sFloor 9 = (K-1) T^2, the distance sum at the prototypes' centroid (1.5, 1.5).
for (const [score, sFloor] of [
  ['eds', 0],
  ['mmsp', 0],
  ['combined', 0],
  ['eds', 9],
  ['combined', 9],
  ['margin', 0],
] as const) {
  test(`metric head ${score}, sFloor ${sFloor}: scores, nearest class and unknown mask follow the formulas`, () => {
    const head = new MetricHead(settings(score, { sFloor }));
    const out = head.apply(channelMajor(PIXELS), PIXELS.length);
    PIXELS.forEach((f, p) => {
      const expected = expectedScores(f, sFloor);
      const value = expected[score];
      assert.ok(Math.abs(out.ood[p]! - value) < 1e-6, `pixel ${p}: ${score} ${out.ood[p]} vs ${value}`);
      assert.equal(out.nearestKnown[p], expected.nearest, `pixel ${p} nearest`);
      assert.equal(out.classMap[p], value > 0.6 ? UNKNOWN_CLASS : expected.nearest, `pixel ${p} class`);
    });
  });
}

test('metric head: hand-computed values for the equidistant and the on-prototype pixel', () => {
  const head = new MetricHead(settings('eds'));
  const out = head.apply(
    channelMajor([
      [1.5, 1.5],
      [3, 0],
    ]),
    2,
  );
  assert.ok(Math.abs(out.ood[0]! - 0.75) < 1e-6); // S = 9, 1 - 9/36
  assert.ok(Math.abs(out.ood[1]! - 0.5) < 1e-6); // S = 18
  const floored = new MetricHead(settings('eds', { sFloor: 9 })).apply(channelMajor([[1.5, 1.5]]), 1);
  assert.ok(Math.abs(floored.ood[0]! - 1) < 1e-6); // at the centroid S = sFloor: EDS reaches 1
  const mmsp = new MetricHead(settings('mmsp')).apply(channelMajor([[1.5, 1.5]]), 1);
  assert.ok(Math.abs(mmsp.ood[0]! - 0.5) < 1e-6); // two equal distances: max p = 1/2
});

test('metric head: a taught class wins only inside its radius and when closer than every known prototype', () => {
  const head = new MetricHead(settings('eds'));
  head.setTaught([{ name: 'cone', color: [255, 128, 0], prototypes: [[2, 2]], acceptanceRadius: 1 }]);
  const pixels = [
    [2, 2.2], // d_taught 0.04, d_known 5.84 / 4.64: taught
    [3, 0.1], // d_known 0.01 beats d_taught 1.01 (also outside the radius)
    [2.6, 1.4], // d_taught 0.72 inside the radius and below d_known0 = 2.12: taught
    [2.9, 0.6], // d_taught 0.81+1.96 = 2.77 > radius
  ];
  const out = head.apply(channelMajor(pixels), pixels.length);
  assert.equal(out.classMap[0], 2);
  // Its score fades with the distance to the taught prototype: EDS times d_taught / radius.
  assert.ok(Math.abs(out.ood[0]! - expectedScores(pixels[0]!).eds * 0.04) < 1e-6, `taught pixel 0: ${out.ood[0]}`);
  assert.ok(Math.abs(out.ood[2]! - expectedScores(pixels[2]!).eds * 0.72) < 1e-6, `taught pixel 2: ${out.ood[2]}`);
  assert.ok(Math.abs(out.ood[3]! - expectedScores(pixels[3]!).eds) < 1e-6, 'outside the radius: the plain score');
  assert.equal(out.nearestKnown[0], 1, 'the closed-set prediction ignores taught classes');
  assert.equal(out.classMap[1], 0);
  assert.equal(out.classMap[2], 2);
  assert.notEqual(out.classMap[3], 2);
  // Same number of rows, another prototype: the kernel must not keep the old one.
  head.setTaught([{ name: 'cone', color: [255, 128, 0], prototypes: [[3, 0.1]], acceptanceRadius: 1 }]);
  const moved = head.apply(channelMajor(pixels), pixels.length);
  assert.equal(moved.classMap[1], 2, 'pixel 1 now sits on the moved prototype');
  assert.notEqual(moved.classMap[0], 2, 'pixel 0 is far from it');
  head.setTaught([]);
  assert.notEqual(
    head.apply(channelMajor(pixels), pixels.length).classMap[0],
    2,
    'removing taught classes restores the card classes',
  );
});

test('metric head: taught prototypes of the wrong size are refused with the class name', () => {
  const head = new MetricHead(settings('eds'));
  assert.throws(
    () => head.setTaught([{ name: 'cone', color: [1, 2, 3], prototypes: [[1, 2, 3]], acceptanceRadius: 1 }]),
    /cone.*3 values.*needs 2/,
  );
});

test('metric head: logits models score MSP, MaxLogit and the margin', () => {
  const logits = [
    [5, 1],
    [0.2, 0.1],
  ];
  const msp = new MetricHead(settings('msp', { kind: 'logits', prototypes: [], threshold: 0.4 })).apply(
    channelMajor(logits),
    2,
  );
  const expectedMsp = (z: number[]) => 1 - Math.max(...z.map(Math.exp)) / z.map(Math.exp).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(msp.ood[0]! - expectedMsp(logits[0]!)) < 1e-6);
  assert.ok(Math.abs(msp.ood[1]! - expectedMsp(logits[1]!)) < 1e-6);
  assert.deepEqual([...msp.classMap], [0, UNKNOWN_CLASS]);
  const maxLogit = new MetricHead(settings('maxlogit', { kind: 'logits', prototypes: [], threshold: 0 })).apply(
    channelMajor(logits),
    2,
  );
  assert.deepEqual([...maxLogit.ood], [-5, -0.20000000298023224]);
  // margin: max minus mean logit, 2 and 0.05, over gMax 4
  const margin = new MetricHead(settings('margin', { kind: 'logits', prototypes: [], gMax: 4 })).apply(
    channelMajor(logits),
    2,
  );
  assert.ok(Math.abs(margin.ood[0]! - 0.5) < 1e-6 && Math.abs(margin.ood[1]! - (1 - 0.05 / 4)) < 1e-6);
  assert.deepEqual([...margin.classMap], [0, UNKNOWN_CLASS]);
});

test('metric head: NaN output is an error naming the model', () => {
  const head = new MetricHead(settings('eds'));
  assert.throws(
    () =>
      head.apply(
        channelMajor([
          [1, 1],
          [Number.NaN, 0],
        ]),
        2,
      ),
    /test\.onnx produced a NaN or infinite output \(pixel 1\)/,
  );
  const logits = new MetricHead(settings('msp', { kind: 'logits', prototypes: [] }));
  assert.throws(() => logits.apply(channelMajor([[Number.POSITIVE_INFINITY, 0]]), 1), /test\.onnx produced a NaN/);
});

test('metric head: a score that does not fit the model kind is refused', () => {
  assert.throws(() => new MetricHead(settings('msp')), /Score "msp" does not apply to test\.onnx \(embedding model\)/);
});

test('metric head: the margin score on a card without its scale is refused, naming the model', () => {
  assert.throws(
    () => new MetricHead(settings('margin', { gMax: undefined })),
    /Score "margin" needs scores\.margin\.gMax, which test\.onnx lacks/,
  );
});

// The margin (mean minus nearest distance) on the prototype is 9 (d = [0, 18]); with gMax 12 the score is
// 1 - 9 / 12; past gMax it is 0; where both prototypes are equally near it is 1.
test('metric head: hand-computed margin scores', () => {
  const pixels = [
    [3, 0],
    [6, 0],
    [1.5, 1.5],
  ];
  const out = new MetricHead(settings('margin', { gMax: 12 })).apply(channelMajor(pixels), pixels.length);
  assert.deepEqual(Array.from(out.ood), [0.25, 0, 1]);
});

// The kernel works on groups of 4 pixels in float32 (as training does): a count that is not a multiple of 4
// exercises the padded last group; 5e-6 allows float32 rounding of inputs and sums (measured 1.1e-6).
test('metric head: every pixel of an odd-sized frame gets the formulas within float32 rounding', () => {
  const pixels = Array.from({ length: 1501 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 0.7) * 3]);
  for (const score of ['combined', 'margin'] as const) {
    const out = new MetricHead(settings(score)).apply(channelMajor(pixels), pixels.length);
    pixels.forEach((f, p) =>
      assert.ok(Math.abs(out.ood[p]! - expectedScores(f)[score]) < 5e-6, `${score}: pixel ${p}`),
    );
  }
});

// MMSP's exponentials span e^-120 .. e^0 along this line (the kernel's own exp, clamped below e^-87).
test('metric head: MMSP and combined follow the formulas from overlapping to far-apart distances', () => {
  const pixels = Array.from({ length: 401 }, (_, i) => [-10 + i * 0.05, 0.5]);
  for (const score of ['mmsp', 'combined'] as const) {
    const out = new MetricHead(settings(score, { sMax: 400 })).apply(channelMajor(pixels), pixels.length);
    pixels.forEach((f, p) => {
      const expected = expectedScores(f, 0, 400)[score];
      assert.ok(Math.abs(out.ood[p]! - expected) < 5e-6, `${score} at x = ${f[0]}: ${out.ood[p]} vs ${expected}`);
    });
  }
});

test('metric head: one head scores frames of changing size, its kernel memory re-laid out each time', () => {
  const head = new MetricHead(settings('combined'));
  for (const count of [1501, 7, 40_000, 3]) {
    const pixels = Array.from({ length: count }, (_, i) => [Math.sin(i * 1.3) * 4, Math.cos(i * 0.3) * 4]);
    const out = head.apply(channelMajor(pixels), count);
    assert.equal(out.ood.length, count);
    pixels.forEach((f, p) =>
      assert.ok(Math.abs(out.ood[p]! - expectedScores(f).combined) < 5e-6, `${count}: pixel ${p}`),
    );
  }
});

/** Bilinear upsampling with corners aligned, one output value at a time (PyTorch's align_corners=True). */
function upsampledValue(
  source: Float32Array,
  from: { width: number; height: number },
  plane: number,
  x: number,
  y: number,
  to: { width: number; height: number },
) {
  const position = (i: number, inputs: number, outputs: number) =>
    outputs > 1 ? (i * (inputs - 1)) / (outputs - 1) : 0;
  const sx = position(x, from.width, to.width);
  const sy = position(y, from.height, to.height);
  const x0 = Math.min(Math.floor(sx), from.width - 1);
  const y0 = Math.min(Math.floor(sy), from.height - 1);
  const x1 = Math.min(x0 + 1, from.width - 1);
  const y1 = Math.min(y0 + 1, from.height - 1);
  const at = (px: number, py: number) => source[plane * from.width * from.height + py * from.width + px]!;
  const fx = sx - x0;
  const fy = sy - y0;
  const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
  const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

// 5x3 -> 17x10: a width that is not a multiple of 4 (the kernel's scalar tail) and a pixel count that is not
// (its padded planes, given back packed).
for (const [from, to] of [
  [
    { width: 5, height: 3 },
    { width: 17, height: 10 },
  ],
  [
    { width: 4, height: 4 },
    { width: 16, height: 16 },
  ],
] as const) {
  test(`upsample ${from.width}x${from.height} -> ${to.width}x${to.height}: bilinear with corners aligned, then scored where it lies`, () => {
    const head = new MetricHead(settings('margin'));
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 6 - 3;
    const source = Float32Array.from({ length: 2 * from.width * from.height }, random);
    const upsampled = head.upsample(source, from, to);
    const pixels = to.width * to.height;
    assert.equal(upsampled.length, 2 * pixels);
    let worst = 0;
    for (let plane = 0; plane < 2; plane++)
      for (let y = 0; y < to.height; y++)
        for (let x = 0; x < to.width; x++) {
          const expected = upsampledValue(source, from, plane, x, y, to);
          worst = Math.max(worst, Math.abs(upsampled[plane * pixels + y * to.width + x]! - expected));
        }
    assert.ok(worst < 1e-5, `max abs difference ${worst}`);
    // The corners are the source's corners exactly.
    assert.equal(upsampled[0], source[0]);
    assert.equal(upsampled[pixels - 1], source[from.width * from.height - 1]);
    // Scored as given (taken where it lies, or copied in when packed) it gives what a plain copy gives.
    const copy = upsampled.slice();
    const inPlace = head.apply(upsampled, pixels);
    const fromCopy = new MetricHead(settings('margin')).apply(copy, pixels);
    assert.deepEqual(Array.from(inPlace.ood), Array.from(fromCopy.ood));
    assert.deepEqual(Array.from(inPlace.classMap), Array.from(fromCopy.classMap));
  });
}
