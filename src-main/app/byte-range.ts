import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { MediaFile } from '../api/media.js';

/** What a Range header asks of a file of `size` bytes (RFC 9110, section 14). */
export type ByteRange = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * One byte range, inclusive. No header, another unit, or several ranges (which a video element never asks
 * for) are answered with the whole file, as the RFC allows; a malformed or unsatisfiable bytes range is 416.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return { kind: 'whole' };
  const equals = header.indexOf('=');
  if (equals < 0 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return { kind: 'whole' };
  const specs = header.slice(equals + 1).trim();
  if (specs.includes(',')) return { kind: 'whole' };
  const match = SPEC.exec(specs);
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'unsatisfiable' };
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    // A suffix: the last n bytes (the whole file when it is shorter).
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end };
}

/** The status, headers and (unless HEAD) the bytes a media file request is answered with. */
export interface FileAnswer {
  status: 200 | 206 | 404 | 416;
  headers: Record<string, string>;
  body?: () => Readable;
  message?: string;
}

/**
 * Answers a GET or HEAD of `media` with Range support. Only a regular file is opened: a FIFO or device that
 * replaced a source is refused instead of hanging the reader. If-Range with another date than the file's
 * gets the whole file, so a client never stitches bytes of two versions together.
 */
export async function answerFileRequest(
  media: MediaFile,
  request: { method?: string; range?: string; ifRange?: string },
): Promise<FileAnswer> {
  const info = await stat(media.file).catch(() => undefined);
  if (!info?.isFile())
    return { status: 404, headers: {}, message: `The file of ${media.label} is missing or not a regular file` };
  const size = info.size;
  const lastModified = info.mtime.toUTCString();
  const stale = request.ifRange !== undefined && request.ifRange !== lastModified;
  const range = stale ? ({ kind: 'whole' } as const) : parseByteRange(request.range, size);
  const common = { 'accept-ranges': 'bytes', 'last-modified': lastModified, 'content-type': media.contentType };
  if (range.kind === 'unsatisfiable')
    return {
      status: 416,
      headers: { 'accept-ranges': 'bytes', 'content-range': `bytes */${size}` },
      message: `The range ${request.range} is not satisfiable for ${media.label} (${size} bytes)`,
    };
  const [start, end] = range.kind === 'part' ? [range.start, range.end] : [0, size - 1];
  const headers: Record<string, string> = { ...common, 'content-length': String(Math.max(0, end - start + 1)) };
  if (range.kind === 'part') headers['content-range'] = `bytes ${start}-${end}/${size}`;
  const body = request.method === 'HEAD' || size === 0 ? undefined : () => createReadStream(media.file, { start, end });
  return { status: range.kind === 'part' ? 206 : 200, headers, body };
}
