import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { AppError } from '../../src-main/core/errors.js';
import { jpegSize, pngSize, readImageFile } from '../../src-main/teaching/images.js';
import { valImages } from '../helpers/clips.js';
import { specialFiles, type SpecialFiles } from '../helpers/special-files.js';

const dir = mkdtempSync(join(tmpdir(), 'dml-images-'));
let files: SpecialFiles;
const valJpeg = join(valImages, '0016E5_07959.jpg');

before(async () => {
  files = await specialFiles(dir);
});

async function refused(path: string, code: string, mention: RegExp) {
  await assert.rejects(readImageFile(path), (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, mention);
    return true;
  });
}

test('header sizes: a JPEG and a PNG of the val drive, read from their first bytes', () => {
  assert.deepEqual(jpegSize(readFileSync(valJpeg)), { width: 480, height: 360 });
  const png = join(dir, 'frame-copy.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', valJpeg, png]);
  assert.deepEqual(pngSize(readFileSync(png)), { width: 480, height: 360 });
  assert.equal(pngSize(Buffer.from('not a png at all, no')), undefined);
  assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2])), undefined);
});

test('a real image decodes', async () => {
  const frame = await readImageFile(valJpeg);
  assert.deepEqual([frame.width, frame.height, frame.data.length], [480, 360, 480 * 360 * 3]);
});

test('a 140 kB PNG of 12000x12000 is refused from its header, before any decoding (memory stays flat)', async () => {
  assert.ok(statSync(files.bomb).size < 200_000, `${statSync(files.bomb).size} bytes`);
  const before = process.memoryUsage().rss;
  await refused(files.bomb, 'image_too_large', /bomb\.png is 12000x12000 pixels, over the 40 million pixel limit/);
  assert.ok(process.memoryUsage().rss - before < 50 * 2 ** 20, 'no decode buffer was allocated');
});

test('/dev/zero, a FIFO and a folder are refused as not regular files, at once', async () => {
  const started = performance.now();
  await refused('/dev/zero.png', 'image_missing', /cannot be read/);
  await refused(files.fifo, 'image_invalid', /frame\.png is not a regular file/);
  await refused(files.folder, 'image_invalid', /folder\.jpg is not a regular file/);
  assert.ok(performance.now() - started < 2000, 'the FIFO did not block');
  await refused(files.zero, 'image_invalid', /unsupported type ""/);
});

test('text named .png is refused for its missing header', async () => {
  await refused(files.text, 'image_invalid', /notes\.png has no PNG header/);
});
