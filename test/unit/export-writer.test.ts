import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mountTmpfs } from '../helpers/tmpfs.js';
import { AppError } from '../../src-main/core/errors.js';
import { nodeExportFs, writeFolderAtomically, type ExportFs } from '../../src-main/export/atomic.js';

const megabyte = new Uint8Array(1024 * 1024).fill(7);

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'dml-export-'));
}

/** Writes three 1 MB files and a manifest, like a small export. */
async function writeSample(parent: string, name: string, fs?: ExportFs) {
  return writeFolderAtomically(
    parent,
    name,
    async (put) => {
      for (const file of ['frames/a.png', 'frames/b.png', 'overlays/a.png']) await put(file, megabyte);
      await put('manifest.json', '{"rows":[]}\n');
      return 'done';
    },
    fs,
  );
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a finished export is renamed into place with every file, and no partial folder stays', async () => {
  const parent = scratch();
  const result = await writeSample(parent, 'export-1');
  assert.equal(result.path, join(parent, 'export-1'));
  assert.equal(result.value, 'done');
  assert.equal(result.bytes, 3 * megabyte.length + '{"rows":[]}\n'.length);
  assert.deepEqual(readdirSync(parent), ['export-1']);
  assert.deepEqual(readdirSync(join(parent, 'export-1')).sort(), ['frames', 'manifest.json', 'overlays']);
  assert.equal(readFileSync(join(parent, 'export-1', 'frames', 'b.png')).length, megabyte.length);
});

test('an existing target is refused and left untouched', async () => {
  const parent = scratch();
  mkdirSync(join(parent, 'taken'));
  writeFileSync(join(parent, 'taken', 'keep.txt'), 'mine');
  await rejectsWith(writeSample(parent, 'taken'), 'export_target_exists', /already exists/);
  assert.deepEqual(readdirSync(parent), ['taken']);
  assert.equal(readFileSync(join(parent, 'taken', 'keep.txt'), 'utf8'), 'mine');
});

test('a missing parent folder, or a file in its place, is named in the error', async () => {
  const parent = scratch();
  await rejectsWith(writeSample(join(parent, 'nope'), 'x'), 'export_folder_missing', /nope does not exist/);
  writeFileSync(join(parent, 'file'), '');
  await rejectsWith(writeSample(join(parent, 'file'), 'x'), 'export_folder_invalid', /is a file, not a folder/);
});

test('a disk that fills up part-way (injected at the fs layer) leaves nothing behind and says so', async () => {
  const parent = scratch();
  let budget = 2.5 * megabyte.length;
  // Behaves like a file system with 2.5 MB free: the third 1 MB file fails with ENOSPC, as write(2) would.
  const fillingFs: ExportFs = {
    ...nodeExportFs,
    writeFile: async (path, data) => {
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (size > budget)
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
      budget -= size;
      await nodeExportFs.writeFile(path, data);
    },
  };
  await rejectsWith(
    writeSample(parent, 'full', fillingFs),
    'export_disk_full',
    /is full after 2\.0 MB.*Nothing was left behind/,
  );
  assert.deepEqual(readdirSync(parent), []);
});

const isRoot = process.getuid?.() === 0;

test('a really full file system (1.5 MB tmpfs): clear error, no partial folder left', async (t) => {
  const mount = mountTmpfs('size=1536k');
  if (typeof mount === 'string') return t.skip(mount);
  try {
    await rejectsWith(writeSample(mount.dir, 'export'), 'export_disk_full', /is full/);
    assert.deepEqual(readdirSync(mount.dir), []);
  } finally {
    mount.unmount();
  }
});

test('a read-only target folder: clear error before anything is written', async (t) => {
  let parent: string;
  let cleanup: () => void;
  if (isRoot) {
    // root ignores permission bits, so only a read-only mount can say no to it.
    const mount = mountTmpfs('ro,size=1m');
    if (typeof mount === 'string') return t.skip(mount);
    parent = mount.dir;
    cleanup = () => mount.unmount();
  } else {
    parent = scratch();
    chmodSync(parent, 0o555);
    cleanup = () => chmodSync(parent, 0o755);
  }
  try {
    await rejectsWith(writeSample(parent, 'export'), 'export_folder_read_only', /not writable/);
    assert.deepEqual(readdirSync(parent), []);
    assert.equal(existsSync(join(parent, 'export')), false);
  } finally {
    cleanup();
  }
});

test('partial folders a killed export left behind are removed by the next export; a live one stays', async () => {
  const parent = scratch();
  const dead = spawnSync('true').pid;
  const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  const abandoned = join(parent, `.old-export.partial-${dead}@${tag}-0123abcd`);
  const inProgress = join(parent, `.other.partial-${process.pid}@${tag}-0123abcd`);
  const otherMachine = join(parent, `.shared.partial-${dead}@ffffffff-0123abcd`);
  for (const folder of [abandoned, inProgress, otherMachine]) mkdirSync(join(folder, 'frames'), { recursive: true });
  await writeSample(parent, 'export');
  assert.deepEqual(
    readdirSync(parent).sort(),
    [inProgress, otherMachine, join(parent, 'export')].map((p) => p.slice(parent.length + 1)).sort(),
  );
});

test('an export name with a path in it is refused before anything is written', async () => {
  const parent = scratch();
  await rejectsWith(
    writeSample(join(parent), 'x/../../y'),
    'export_name_invalid',
    /"x\/\.\.\/\.\.\/y" must be a plain folder name/,
  );
  await rejectsWith(writeSample(join(parent), '..'), 'export_name_invalid', /plain folder name/);
  assert.deepEqual(readdirSync(parent), []);
});
