// `npm test`: every check the project has, in the order a failure is cheapest to find. Runs them all, then
// prints one summary line; exits non-zero if any failed.
import { spawn } from 'node:child_process';

const steps = [
  ['typecheck', 'npm', ['run', '--silent', 'typecheck']],
  ['lint', 'npm', ['run', '--silent', 'lint']],
  ['lint-python', 'npm', ['run', '--silent', 'lint:py']],
  ['format', 'npm', ['run', '--silent', 'format:check']],
  ['build', 'npm', ['run', '--silent', 'build']],
  ['unit', 'npm', ['run', '--silent', 'test:unit']],
  ['integration', 'npm', ['run', '--silent', 'test:integration']],
  ['e2e', 'npm', ['run', '--silent', 'test:e2e']],
  ['python', 'npm', ['run', '--silent', 'test:py']],
];

function run(name, command, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const forward = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    child.on('close', (code) => resolve({ name, code, output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** Test counts from node's spec reporter (ℹ pass N) and pytest's closing line (N passed, N failed). */
function counts(output) {
  const grab = (regex) => [...output.matchAll(regex)].reduce((sum, match) => sum + Number(match[1]), 0);
  return {
    passed: grab(/^ℹ pass (\d+)/gm) + grab(/(\d+) passed/g),
    failed: grab(/^ℹ fail (\d+)/gm) + grab(/(\d+) failed/g),
  };
}

const only = process.argv.slice(2);
const results = [];
for (const [name, command, args] of steps) {
  if (only.length && !only.includes(name)) continue;
  results.push(await run(name, command, args));
}

console.log('\n=== summary');
let passed = 0;
let failed = 0;
for (const result of results) {
  const c = counts(result.output);
  passed += c.passed;
  failed += c.failed;
  const tests = c.passed || c.failed ? ` (${c.passed} passed, ${c.failed} failed)` : '';
  console.log(`${result.code === 0 ? 'ok  ' : 'FAIL'} ${result.name.padEnd(12)} ${result.seconds.toFixed(0)}s${tests}`);
}
const failedSteps = results.filter((result) => result.code !== 0);
if (failedSteps.length && failed === 0) failed = failedSteps.length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failedSteps.length ? 1 : 0);
