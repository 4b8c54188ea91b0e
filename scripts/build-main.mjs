// Bundles the main side with esbuild: the CLI (ESM, plain Node), every *.worker.ts (ESM, worker threads),
// and the Electron main and preload scripts (CommonJS, as Electron's sandboxed preload requires).
// node_modules stay external, so native modules load from their own folders.
// Compiles the metric head's AssemblyScript kernel to dist/wasm (the engine loads it from there, also in tests).
import asc from 'assemblyscript/asc';
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outRoot = join(root, 'dist');

function workerEntries(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.worker.ts'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  packages: 'external',
};

rmSync(join(outRoot, 'main'), { recursive: true, force: true });
rmSync(join(outRoot, 'electron'), { recursive: true, force: true });

await build({
  ...common,
  format: 'esm',
  entryPoints: [join(root, 'src-main/cli/index.ts'), ...workerEntries(join(root, 'src-main'))].map((path) => ({
    in: path,
    out: path.endsWith('cli/index.ts')
      ? 'cli'
      : relative(join(root, 'src-main'), path).replace(/\.ts$/, '').replaceAll('/', '-'),
  })),
  outdir: join(outRoot, 'main'),
  outExtension: { '.js': '.js' },
});

// CommonJS has no import.meta.url: give the bundled code the file's own URL instead.
const cjsImportMeta = {
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

// Packages that ship only ES modules are bundled into the CommonJS main instead of required at run time.
const esmOnly = ['kysely'];
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const runtimePackages = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });

await build({
  ...common,
  ...cjsImportMeta,
  packages: undefined,
  format: 'cjs',
  external: ['electron', ...runtimePackages.filter((name) => !esmOnly.includes(name))],
  entryPoints: [{ in: join(root, 'src-main/electron/main.ts'), out: 'main' }],
  outdir: join(outRoot, 'electron'),
  outExtension: { '.js': '.cjs' },
});

await build({
  ...common,
  ...cjsImportMeta,
  packages: undefined,
  format: 'cjs',
  external: ['electron'],
  entryPoints: [{ in: join(root, 'src-main/electron/preload.ts'), out: 'preload' }],
  outdir: join(outRoot, 'electron'),
  outExtension: { '.js': '.cjs' },
});
const kernel = join(root, 'src-main/engine/assembly/metric-kernel.ts');
const { error, stderr } = await asc.main([
  kernel,
  '-O3',
  '--runtime',
  'stub',
  '--noAssert',
  '--enable',
  'simd',
  '--outFile',
  join(outRoot, 'wasm', 'metric-kernel.wasm'),
]);
if (error) {
  console.error(stderr.toString());
  throw new Error(`Compiling ${relative(root, kernel)} failed: ${error.message}`);
}
console.log('built dist/main, dist/electron and dist/wasm');
