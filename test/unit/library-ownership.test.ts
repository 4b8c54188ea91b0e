import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLibraryDatabase } from '../../src-main/library/database.js';
import {
  AnalysisOwnedError,
  newOwner,
  openLibrary,
  STALE_AFTER_MS,
  type OpenLibraryOptions,
  type Owner,
} from '../../src-main/library/index.js';

/** A live process that is not this one: the owner another `dmlreview analyze` would be. */
const other = spawn('sleep', ['60'], { stdio: 'ignore' });
after(() => other.kill('SIGKILL'));

function libraryWithAnalysis(options: OpenLibraryOptions = {}) {
  const store = openLibrary(join(mkdtempSync(join(tmpdir(), 'dml-owner-')), 'library.sqlite'), options);
  const session = store.sessions.create('drive', [], null);
  const analysis = store.analyses.create({
    sessionId: session.id,
    modelName: 'camvid',
    modelSha256: 'ab'.repeat(32),
    knowledgeVersion: null,
    sampleFps: 2,
    inputWidth: 4,
    inputHeight: 2,
    classes: [],
    threshold: 0.5,
    pixelThreshold: 0.3,
    framesTotal: 10,
  });
  return { store, analysisId: analysis.id };
}

const otherProcess = (): Owner => ({ ...newOwner(), pid: other.pid! });

function deadPid(): number {
  const child = spawnSync('true');
  return child.pid;
}

test('an analysis claimed by a live process is refused to another, naming process, host, start and the stale time', () => {
  const { store, analysisId } = libraryWithAnalysis();
  const owners = store.owners;
  const first = otherProcess();
  owners.claim(analysisId, first);
  assert.throws(
    () => owners.claim(analysisId, newOwner()),
    (error: unknown) => {
      assert.ok(error instanceof AnalysisOwnedError);
      assert.equal(error.code, 'analysis_owned');
      assert.match(
        error.message,
        new RegExp(
          `^analysis ${analysisId} is being run by process ${first.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; it resumes here if that process stops \\(heartbeat older than ${STALE_AFTER_MS / 1000} s\\)$`,
        ),
      );
      return true;
    },
  );
  // The owner itself may claim again (its run restarting), and its heartbeat renews.
  owners.claim(analysisId, first);
  assert.equal(owners.beat(analysisId, first.token), true);
  store.close();
});

test('a heartbeat older than the stale time lets another process take over; the old owner then learns it lost', () => {
  let now = 1_000_000;
  const { store, analysisId } = libraryWithAnalysis({ now: () => now });
  const owners = store.owners;
  const first = otherProcess();
  owners.claim(analysisId, first);
  now += STALE_AFTER_MS - 1;
  assert.throws(() => owners.claim(analysisId, newOwner()), AnalysisOwnedError);
  now += 2;
  const second = newOwner();
  owners.claim(analysisId, second);
  assert.equal(owners.holds(analysisId, second.token), true);
  assert.equal(owners.beat(analysisId, first.token), false, 'the first owner finds it no longer holds the analysis');
  store.close();
});

test('an owner whose process died on this host is replaced at once, without waiting for its heartbeat (kill -9)', () => {
  const { store, analysisId } = libraryWithAnalysis();
  const owners = store.owners;
  owners.claim(analysisId, { ...newOwner(), pid: deadPid() });
  assert.equal(owners.live(analysisId), undefined);
  const next = newOwner();
  owners.claim(analysisId, next);
  assert.equal(owners.holds(analysisId, next.token), true);
  store.close();
});

test('a released claim frees the analysis; deleting the analysis deletes its claim', () => {
  const { store, analysisId } = libraryWithAnalysis();
  const owners = store.owners;
  const first = otherProcess();
  owners.claim(analysisId, first);
  owners.release(analysisId, newOwner().token); // another token releases nothing
  assert.ok(owners.live(analysisId));
  owners.release(analysisId, first.token);
  assert.equal(owners.live(analysisId), undefined);
  owners.claim(analysisId, first);
  store.sessions.delete(store.analyses.get(analysisId).sessionId);
  store.close();
  const file = openLibraryDatabase(store.path);
  assert.equal(file.prepare('SELECT count(*) FROM analysis_owners').pluck().get(), 0);
  file.close();
});

test('refusing to cancel or delete names the owner, but not when the owner is this process', () => {
  const { store, analysisId } = libraryWithAnalysis();
  const owners = store.owners;
  const mine = newOwner();
  owners.claim(analysisId, mine);
  assert.doesNotThrow(() => owners.refuseIfOwnedElsewhere(analysisId, 'delete session 1'));
  owners.release(analysisId, mine.token);
  owners.claim(analysisId, otherProcess());
  assert.throws(
    () => owners.refuseIfOwnedElsewhere(analysisId, 'delete session 1'),
    /^AppError: Cannot delete session 1: analysis \d+ is being run by process \d+ .*; stop it in that process$/,
  );
  store.close();
});
