#!/usr/bin/env node
// Entry point of the `dmlreview` command: runs the built CLI (npm run build writes dist/main/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write(
    'dmlreview is not built yet: run `npm run build` in ' + fileURLToPath(new URL('..', import.meta.url)) + '\n',
  );
  process.exit(1);
}
await import(built.href);
