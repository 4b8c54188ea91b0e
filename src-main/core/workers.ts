import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from './paths.js';

/**
 * Starts a worker thread on src-main/FOLDER/NAME.worker.ts: the bundle build-main.mjs writes for it
 * (dist/main/FOLDER-NAME.worker.js), or under tsx (tests, development) the .ts file itself, loaded through
 * tsx's loader, which a worker thread must register for itself.
 */
export function startWorker(script: `${string}/${string}.worker.ts`, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    const bundle = join(packageRoot(), 'dist', 'main', script.replace('/', '-').replace(/\.ts$/, '.js'));
    return new Worker(pathToFileURL(bundle), { workerData });
  }
  const source = pathToFileURL(join(packageRoot(), 'src-main', script)).href;
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** tsx's ESM API, found through its package.json (import.meta.resolve does not exist in the CommonJS bundle). */
function tsxApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}
