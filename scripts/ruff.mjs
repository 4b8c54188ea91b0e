// `npm run lint:py`: Ruff over every .py file under training/ (or the files and folders given), with the
// settings of training/pyproject.toml's [tool.ruff]. Ruff runs as WebAssembly: its Python package cannot be
// fetched on these machines, its npm build can. Prints `file:line:col code message` per finding; exits 1 on
// findings, 2 when the settings or a given path cannot be read.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const pyproject = join(repoRoot, 'training', 'pyproject.toml');
// Run folders hold checkpoints and downloads, never source; caches and hidden folders are not ours.
const skippedFolders = new Set(['runs', '__pycache__', 'node_modules']);

/** [tool.ruff] as JSON: the WebAssembly build takes the same keys as the TOML table. Node has no TOML reader;
 * the project's Python (3.11's tomllib) does. */
function ruffSettings() {
  const read = 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))["tool"]["ruff"]))';
  try {
    return JSON.parse(execFileSync('/usr/bin/python3', ['-c', read, pyproject], { encoding: 'utf8' }));
  } catch (error) {
    console.error(`${relative(process.cwd(), pyproject)}: cannot read [tool.ruff] (${error.message.trim()})`);
    process.exit(2);
  }
}

function pythonFiles(path) {
  if (!existsSync(path)) {
    console.error(`${path}: no such file or folder`);
    process.exit(2);
  }
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => !(entry.isDirectory() && (skippedFolders.has(entry.name) || entry.name.startsWith('.'))))
    .flatMap((entry) => {
      const child = join(path, entry.name);
      return entry.isDirectory() ? pythonFiles(child) : entry.name.endsWith('.py') ? [child] : [];
    })
    .sort();
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : [join(repoRoot, 'training')]).flatMap(pythonFiles);
const workspace = new Workspace(ruffSettings(), PositionEncoding.Utf32);
let findings = 0;
for (const file of files) {
  for (const diagnostic of workspace.check(readFileSync(file, 'utf8'))) {
    const { row, column } = diagnostic.start_location;
    console.log(
      `${relative(process.cwd(), file)}:${row}:${column} ${diagnostic.code ?? 'syntax'} ${diagnostic.message}`,
    );
    findings += 1;
  }
}
console.log(`ruff ${Workspace.version()}: ${files.length} files, ${findings} finding${findings === 1 ? '' : 's'}`);
process.exit(findings ? 1 : 0);
