// The team's compose file (deploy/compose.yaml) is checked by `docker compose config` where Docker Compose
// works; elsewhere the test is skipped, saying why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/cli.js';

const composeFile = join(repoRoot, 'deploy', 'compose.yaml');
const env = {
  ...process.env,
  DMLREVIEW_DB_PASSWORD: 'compose-check-password',
  DMLREVIEW_TOKEN: 'compose-check-token-0123456789',
  DMLREVIEW_FOOTAGE: '/srv/footage',
  DMLREVIEW_SERVER_NAMES: 'review.example.lan,10.0.0.5',
};

const compose = (...args: string[]) =>
  spawnSync('docker', ['compose', '-f', composeFile, ...args], { cwd: repoRoot, env, encoding: 'utf8' });

/** Why `docker compose` cannot check the file here; undefined when it can. */
function composeUnavailable(): string | undefined {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (probe.error) return `docker is not installed here (${probe.error.message}): the compose file is not checked`;
  if (probe.status !== 0)
    return `docker compose does not work here (docker compose version: ${(probe.stderr || probe.stdout).trim().split('\n')[0]}): the compose file is not checked`;
  return undefined;
}

test(
  'deploy/compose.yaml is a valid compose file: postgres, server and worker',
  { skip: composeUnavailable() ?? false },
  () => {
    const services = compose('config', '--services');
    assert.equal(services.status, 0, services.stderr);
    assert.deepEqual(services.stdout.trim().split('\n').sort(), ['postgres', 'server', 'worker']);
    const config = compose('config', '--format', 'json');
    assert.equal(config.status, 0, config.stderr);
    const parsed = JSON.parse(config.stdout) as {
      services: Record<string, { command: string[]; volumes?: { target: string }[] }>;
    };
    const url = 'postgresql://dmlreview:compose-check-password@postgres:5432/dmlreview';
    assert.deepEqual(parsed.services.server!.command.slice(0, 3), ['serve', '--database', url]);
    assert.deepEqual(parsed.services.worker!.command.slice(0, 3), ['worker', '--database', url]);
    for (const name of ['server', 'worker'])
      assert.ok(
        parsed.services[name]!.volumes?.some((volume) => volume.target === '/footage'),
        `${name} sees /footage`,
      );
  },
);

test(
  'deploy/compose.yaml refuses to start without the password, token and footage folder',
  { skip: composeUnavailable() ?? false },
  () => {
    const result = spawnSync('docker', ['compose', '-f', composeFile, 'config'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /set DMLREVIEW_\w+ in deploy\/.env/);
  },
);
