import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { valDrive } from '../helpers/clips.js';

test('every command answers --help with its usage, and help COMMAND does the same', async () => {
  for (const args of [
    ['analyze', '--help'],
    ['help', 'analyze'],
    ['open', '-h'],
  ]) {
    const result = await runCli(args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Usage: dmlreview ${args.includes('open') ? 'open' : 'analyze'} `));
    assert.equal(result.stderr, '');
  }
  const list = await runCli(['--help']);
  assert.match(list.stdout, /dmlreview <command> --help shows its options/);
  assert.match(list.stdout, /^ {2}open /m);
});

test('a model name with no card is refused with the models that are there, before anything is analysed', async () => {
  const library = join(mkdtempSync(join(tmpdir(), 'dml-cli-help-')), 'library.sqlite');
  const result = await runCli(['analyze', valDrive, '--model', 'camvd', '--library', library]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^dmlreview analyze: No model "camvd" in .*models: the models there are .*camvid/);
  assert.doesNotMatch(result.stderr, /ENOENT/);
});
