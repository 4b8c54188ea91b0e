import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/cli.js';

/** `npm run lint:py` (scripts/ruff.mjs) on one file, with training/pyproject.toml's settings. */
function lintPython(source: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dml-ruff-'));
  try {
    const file = join(dir, 'probe.py');
    writeFileSync(file, source);
    const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'ruff.mjs'), file], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the Python lint fails on an unused import, naming file, line, column and rule', () => {
  const result = lintPython('import os\n\nprint("hello")\n');
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^probe\.py:1:8 F401 `os` imported but unused$/m);
});

test('the Python lint passes a clean file and applies the project line length', () => {
  const clean = lintPython(`import os\n\nprint(os.sep, "${'x'.repeat(100)}")\n`);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /1 files, 0 findings/);
  // Ruff leaves a line of one long word alone (a URL): the long line has spaces.
  const long = lintPython(`print("${'word '.repeat(26)}")\n`);
  assert.equal(long.code, 1);
  assert.match(long.stdout, /^probe\.py:1:121 E501 /m);
});
