import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJpegLikeLibjpeg } from '../../src-main/evaluation/libjpeg-decode.js';
import { camvidRoot } from '../helpers/models.js';

test('eval decodes JPEGs within 0.1 grey levels of PIL (libjpeg), as training reads them', async () => {
  const path = join(camvidRoot, 'val', 'images', readdirSync(join(camvidRoot, 'val', 'images')).sort()[0]!);
  const frame = await decodeJpegLikeLibjpeg(path);
  const pil = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys\nfrom PIL import Image\nsys.stdout.buffer.write(Image.open(sys.argv[1]).convert("RGB").tobytes())',
      path,
    ],
    { maxBuffer: 1 << 26 },
  );
  assert.equal(frame.data.length, pil.length);
  let total = 0;
  for (let i = 0; i < pil.length; i++) total += Math.abs(frame.data[i]! - pil[i]!);
  assert.ok(total / pil.length < 0.1, `mean difference ${total / pil.length}`);
  await assert.rejects(
    decodeJpegLikeLibjpeg(join(camvidRoot, 'classes.json')),
    /Image .*classes\.json cannot be decoded \(ffmpeg: /,
  );
});
