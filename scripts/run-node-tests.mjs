// Node 20's test runner takes no glob: find the *.test.ts files under the given folders and run them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const serial = args.includes('--serial');
const dirs = args.filter((arg) => !arg.startsWith('--'));
const files = dirs
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name)),
  )
  .sort();
if (files.length === 0) {
  console.error(`No *.test.ts files under ${dirs.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...(serial ? ['--test-concurrency=1'] : []), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
