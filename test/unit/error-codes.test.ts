import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { ApiErrorBody, ErrorCode } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';

test('an error body carries a code of the contract, never a free-form one', () => {
  assert.equal(ApiErrorBody.safeParse({ code: 'not_found', message: 'Session 9 was not found' }).success, true);
  assert.equal(ApiErrorBody.safeParse({ code: 'oops', message: 'x' }).success, false);
  assert.equal(new Set(ErrorCode.options).size, ErrorCode.options.length, 'each code once');
});

/** The no-restricted-syntax messages of `source` linted in place of the file at `path` (one the project has). */
async function restrictedSyntax(source: string, path: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: repoRoot }).lintText(source, { filePath: join(repoRoot, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

test("only the CLI may throw the 'usage' code; enums stay refused everywhere", async () => {
  const source = [
    "import { AppError } from '../core/errors.js';",
    "export const fail = () => { throw new AppError('usage', '--x: no such thing'); };",
    'export enum Kind { A }',
    '',
  ].join('\n');
  assert.deepEqual(await restrictedSyntax(source, 'src-main/evaluation/samples.ts'), [
    "The 'usage' error code is the CLI's own: throw a code of this module's (ErrorCode).",
    'Use a union of string literals.',
  ]);
  assert.deepEqual(await restrictedSyntax(source, 'src-main/cli/main.ts'), ['Use a union of string literals.']);
  const ownCode = source.replace("'usage'", "'eval_folder_missing'");
  assert.deepEqual(await restrictedSyntax(ownCode, 'src-main/evaluation/samples.ts'), [
    'Use a union of string literals.',
  ]);
});
