import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/cli.js';

/**
 * Only the layering rule, without type information: the type-aware rules are the lint step's job, and this
 * checks the whole of src-main in seconds instead of minutes.
 */
function layeringLint(): ESLint {
  return new ESLint({
    cwd: repoRoot,
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
}

const layeringErrors = (results: ESLint.LintResult[]) =>
  results.flatMap((result) =>
    result.messages
      .filter((message) => message.ruleId === 'no-restricted-imports' || message.fatal)
      .map((message) => `${result.filePath}:${message.line} ${message.message}`),
  );

/** Writes a file that imports `target` into src-main/`folder`, lints it and removes it. */
async function lintBackEdge(folder: string, target: string): Promise<string[]> {
  const path = join(repoRoot, 'src-main', folder, `layering-probe-${process.pid}.ts`);
  writeFileSync(path, `import * as probe from '${target}';\nexport const used = probe;\n`);
  try {
    return layeringErrors(await layeringLint().lintFiles([path]));
  } finally {
    rmSync(path, { force: true });
  }
}

test('the layering rule rejects an import of a layer above or beside', async () => {
  const backEdges: [string, string, RegExp][] = [
    ['engine', '../library/index.js', /src-main\/engine may import only core and src-shared, not library/],
    ['footage', '../engine/index.js', /src-main\/footage may import only core and src-shared, not engine/],
    ['library', '../teaching/index.js', /src-main\/library may import only .*, not teaching/],
    ['api', '../app/create-app.js', /src-main\/api may import only .*, not app/],
    ['electron', '../server/review-server.js', /src-main\/electron may import only .*, not server/],
  ];
  for (const [folder, target, message] of backEdges) {
    const errors = await lintBackEdge(folder, target);
    assert.equal(errors.length, 1, `${folder} importing ${target}: ${errors.join('; ')}`);
    assert.match(errors[0]!, message);
  }
});

test('the layering rule lets a layer import the ones below it', async () => {
  assert.deepEqual(await lintBackEdge('library', '../footage/index.js'), []);
  assert.deepEqual(await lintBackEdge('cli', '../server/review-server.js'), []);
});

test('src-main keeps its layers', async () => {
  const results = await layeringLint().lintFiles(['src-main/**/*.ts']);
  assert.ok(results.length > 100, `only ${results.length} files linted`);
  assert.deepEqual(layeringErrors(results), []);
});
