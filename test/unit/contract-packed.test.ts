import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import {
  decodeBase64,
  EmbeddingCloud,
  encodeBase64,
  methods,
  packed,
  Timeline,
} from '../../src-shared/contract/index.js';

/** The field paths and messages a wire value is refused for; empty when it decodes. */
function refused(schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

test('base64 agrees with Node for every length and byte value, both ways', () => {
  for (let length = 0; length < 70; length++) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 97 + length * 31) & 0xff);
    const text = encodeBase64(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64'), `length ${length}`);
    assert.deepEqual(decodeBase64(text), bytes, `length ${length}`);
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(decodeBase64(Buffer.from(all).toString('base64')), all);
});

test('text that is not base64 decodes to nothing instead of to wrong bytes', () => {
  for (const text of ['A', 'AAA', 'AA=A', '=AAA', 'A===', 'AA!A', 'AAAA AAA', 'AAAA\n', 'ÀAAA']) {
    assert.equal(decodeBase64(text), undefined, JSON.stringify(text));
  }
});

test('a packed array round-trips exactly through its wire form', () => {
  const values = [0, -0.5, 1 / 3, 1e-300, 123456789.123, Number.MAX_VALUE, -Infinity];
  const wire = packed(Float64Array).encode(Float64Array.from(values));
  assert.equal(typeof wire, 'string');
  assert.deepEqual(Array.from(packed(Float64Array).parse(wire)), values);
  const pixels = Uint32Array.from([0, 1, 2 ** 32 - 1, 172_799]);
  assert.deepEqual(packed(Uint32Array).parse(packed(Uint32Array).encode(pixels)), pixels);
  const view = new Float32Array([9, 1.5, -2.25, 9]).subarray(1, 3);
  assert.deepEqual(packed(Float32Array).parse(packed(Float32Array).encode(view)), Float32Array.from([1.5, -2.25]));
});

test('a packed array that is not whole elements, or not base64, is refused naming what is wrong', () => {
  const twelveBytes = Buffer.alloc(12).toString('base64');
  assert.deepEqual(refused(packed(Float64Array), twelveBytes), [
    ': must hold whole Float64Array elements of 8 bytes, not 12 bytes',
  ]);
  assert.deepEqual(refused(packed(Float32Array), twelveBytes), []);
  assert.deepEqual(refused(packed(Uint32Array), 'not base64'), [': must be the base64 of a Uint32Array']);
  assert.deepEqual(refused(packed(Float64Array), [1, 2, 3]), [': Invalid input: expected string, received array']);
});

test('a timeline whose times and scores differ in length is refused on the wire', () => {
  const wire = (times: number[], scores: number[]) =>
    Timeline.encode({ analysisId: 1, timesMs: Float64Array.from(times), scores: Float64Array.from(scores) });
  assert.deepEqual(refused(Timeline, wire([0, 500], [0.1, 0.2])), []);
  assert.deepEqual(
    refused(Timeline, { ...wire([0, 500], [0.1, 0.2]), scores: packed(Float64Array).encode(Float64Array.of(0.1)) }),
    ['scores: timesMs and scores must have one entry per frame each'],
  );
  assert.deepEqual(refused(methods['timeline.get'].response, { analysisId: 1, timesMs: 'AAAA', scores: '' }), [
    'timesMs: must hold whole Float64Array elements of 8 bytes, not 3 bytes',
  ]);
});

test('an embedding cloud must hold count points in each of its packed arrays', () => {
  const cloud = {
    width: 4,
    height: 2,
    positions: new Float32Array(6),
    pixels: Uint32Array.from([0, 7]),
    classes: Uint8Array.from([3, 255]),
    count: 2,
    dim: 8,
    explained: [0.5, 0.3, 0.1],
    neighboursKept: null,
    prototypes: [],
    classColors: [],
    classNames: [],
  };
  const wire = EmbeddingCloud.encode(cloud);
  assert.equal(typeof wire.positions, 'string');
  assert.deepEqual(EmbeddingCloud.parse(wire), cloud);
  assert.deepEqual(refused(EmbeddingCloud, { ...wire, count: 3 }), [
    ': positions, pixels and classes must hold count points each',
  ]);
});
