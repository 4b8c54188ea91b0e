/**
 * The fleet's faults that are cheap to strike, each on two stand-in workers (bench/stand-in-engine.ts: one real
 * frame's result, the score taken from each frame's pixels) and a drive queued with `analyze --database --wait
 * --json`: the run finishes and stores exactly what an uninterrupted run of the same workers stores, frame for
 * frame (count, times, scores). The same runs, with PostgreSQL down for 10 s, print their timelines in
 * `npm run bench -- fleet-faults`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MODEL } from '../../src-main/engine/index.js';
import {
  cutWorkerConnections,
  fleetRun,
  killWorker,
  postgresDownAtStart,
  stopPostgres,
  type FleetRun,
} from '../../bench/fleet-faults.js';
import { differences, type StoredRun } from '../../bench/fleet-harness.js';
import { captureStandInFrame } from '../../bench/stand-in-engine.js';
import { loopedValDrive, tempDir, valDrive } from '../helpers/clips.js';
import { testModelsDir } from '../helpers/models.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';

// Some frames of the val drive at 1 fps, paced so that a chunk is still running when the fault strikes.
const FRAMES = 120;
const MS_PER_FRAME = 40;

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);

describe('fleet faults', { skip }, () => {
  let server: TestPostgres;
  let run: FleetRun;
  let reference: StoredRun;

  before(async () => {
    server = await startPostgres();
    const captureFile = await captureStandInFrame(testModelsDir, DEFAULT_MODEL, valDrive);
    run = {
      server,
      clip: loopedValDrive(tempDir(), FRAMES),
      model: DEFAULT_MODEL,
      engine: { captureFile, msPerFrame: MS_PER_FRAME },
      workers: 2,
      chunkSeconds: 40,
      timeoutMs: 180_000,
    };
    reference = (await fleetRun(run)).stored;
  });

  after(() => server?.stop());

  test('the uninterrupted run stores every frame of the drive once', () => {
    assert.equal(reference.status, 'done');
    assert.equal(reference.framesDone, FRAMES);
    assert.equal(new Set(reference.timesMs).size, FRAMES);
  });

  test('a worker killed with -9 mid-chunk: its chunk resumes on the other, nothing lost or duplicated', async () => {
    const { stored, timeline } = await fleetRun(run, killWorker);
    assert.deepEqual(differences(reference, stored), [], timeline.lines().join('\n'));
  });

  test('PostgreSQL stopped and started mid-run: the run finishes, nothing lost or duplicated', async () => {
    const { stored, timeline } = await fleetRun(run, stopPostgres(3));
    assert.deepEqual(differences(reference, stored), [], timeline.lines().join('\n'));
  });

  test("a worker's connections cut mid-chunk (pg_terminate_backend): the run finishes, nothing lost or duplicated", async () => {
    const { stored, timeline } = await fleetRun(run, cutWorkerConnections);
    assert.match(timeline.lines().join('\n'), /pg_terminate_backend on [1-9]\d* connections/);
    assert.deepEqual(differences(reference, stored), [], timeline.lines().join('\n'));
  });

  test('workers started while PostgreSQL is down wait for it, then run the drive: nothing lost or duplicated', async () => {
    const { stored, timeline } = await fleetRun(run, postgresDownAtStart(2));
    const lines = timeline.lines().join('\n');
    assert.match(lines, /worker-1: .*does not answer.*waiting for it, trying again every 2 s/, lines);
    assert.deepEqual(differences(reference, stored), [], lines);
  });
});
