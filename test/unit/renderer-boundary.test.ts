import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/cli.js';

const forbidden = ['electron', 'node:fs', 'fs', 'better-sqlite3', 'onnxruntime-node', '../../src-main/core/paths'];

test('the lint rule rejects node, electron and native imports in the renderer', async () => {
  const eslint = new ESLint({ cwd: repoRoot });
  for (const name of forbidden) {
    const [result] = await eslint.lintText(`import * as probe from '${name}';\nexport const used = probe;\n`, {
      filePath: join(repoRoot, 'src-renderer/src/main.tsx'),
    });
    const messages = result?.messages.filter((message) => message.ruleId === 'no-restricted-imports') ?? [];
    assert.ok(messages.length > 0, `importing ${name} in the renderer must fail lint`);
  }
});

test('no file in src-renderer imports node, electron or native modules', () => {
  const pattern = /from\s+['"](electron|node:[\w/]+|better-sqlite3|onnxruntime-node|fs|path|child_process)['"]/;
  const files = readdirSync(join(repoRoot, 'src-renderer'), { recursive: true, withFileTypes: true }).filter(
    (entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name),
  );
  assert.ok(files.length > 0);
  for (const entry of files) {
    const path = join(entry.parentPath, entry.name);
    assert.doesNotMatch(readFileSync(path, 'utf8'), pattern, path);
  }
});
