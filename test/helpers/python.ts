import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

/**
 * Runs a command-line tool of training/tools (`python3 -m tools.NAME`) from training/, where its `dmlnet`
 * imports resolve without installing the package; path arguments must be absolute. Returns its stdout.
 */
export function runTrainingTool(tool: string, args: string[]): string {
  return execFileSync('/usr/bin/python3', ['-m', `tools.${tool}`, ...args], {
    cwd: join(repoRoot, 'training'),
    encoding: 'utf8',
  });
}
