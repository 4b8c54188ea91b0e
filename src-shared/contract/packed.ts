/**
 * How bulk numbers cross the API: a typed array's bytes (platform order, little-endian on every platform the app
 * runs on) as one base64 string. Validating a JSON array costs a check per number (200,000 for a 100,000-frame
 * timeline); a packed array is checked once, for its length, while it is decoded.
 *
 * In the contract a packed field is a zod codec: the main side's handlers return typed arrays, the dispatcher
 * encodes them (`schema.encode`), and the clients decode the wire form back (`schema.parse`).
 */
import { z } from 'zod';

type TypedArray = Float64Array | Float32Array | Uint32Array | Uint8Array;
type TypedArrayType<T extends TypedArray> = {
  new (buffer: ArrayBuffer): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const NOT_BASE64 = 255;
const SEXTETS = new Uint8Array(256).fill(NOT_BASE64);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

// Node's Buffer encodes base64 natively, a hundred times faster than a loop here: the main side, which does all
// the packing, always has it. The renderer only decodes.
const nodeBuffer = (
  globalThis as {
    Buffer?: {
      from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string };
    };
  }
).Buffer;

export function encodeBase64(bytes: Uint8Array): string {
  if (nodeBuffer) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** The bytes of a base64 string, or undefined when it is not one (a character outside the alphabet, a bad length). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let out = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const a = SEXTETS[text.charCodeAt(i)]!;
    const b = SEXTETS[text.charCodeAt(i + 1)]!;
    const c = last && padding === 2 ? 0 : SEXTETS[text.charCodeAt(i + 2)]!;
    const d = last && padding > 0 ? 0 : SEXTETS[text.charCodeAt(i + 3)]!;
    if ((a | b | c | d) === NOT_BASE64) return undefined;
    const triple = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[out++] = triple >> 16;
    if (out < bytes.length) bytes[out++] = (triple >> 8) & 0xff;
    if (out < bytes.length) bytes[out++] = triple & 0xff;
  }
  // A pad character anywhere but at the end was caught above: it is not in the alphabet.
  return bytes;
}

/** A typed array on the wire as base64 of its bytes; decoding refuses text that is not whole elements. */
export function packed<T extends TypedArray>(type: TypedArrayType<T>) {
  return z.codec(z.string(), z.instanceof(type as unknown as new (buffer: ArrayBuffer) => T), {
    decode: (text, payload) => {
      const bytes = decodeBase64(text);
      if (bytes && bytes.byteLength % type.BYTES_PER_ELEMENT === 0) return new type(bytes.buffer);
      payload.issues.push({
        code: 'custom',
        input: text,
        message: bytes
          ? `must hold whole ${type.name} elements of ${type.BYTES_PER_ELEMENT} bytes, not ${bytes.byteLength} bytes`
          : `must be the base64 of a ${type.name}`,
      });
      return z.NEVER;
    },
    encode: (array) => encodeBase64(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)),
  });
}
