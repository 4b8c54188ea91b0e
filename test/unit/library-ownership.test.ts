import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, test } from 'node:test';
import {
  AnalysisOwnedError,
  newOwner,
  openLibrary,
  STALE_AFTER_MS,
  type OpenLibraryOptions,
  type Owner,
} from '../../src-main/library/index.js';
import { queryNumber, storeBackends, type StoreBackend } from '../helpers/store-backends.js';

/**
 * A live process that is not this one: the owner another `dmlreview analyze` would be. It must outlive the
 * file's tests, which take over a minute on a loaded machine (killed when they end).
 */
const other = spawn('sleep', ['3600'], { stdio: 'ignore' });
after(() => other.kill('SIGKILL'));

async function libraryWithAnalysis(backend: StoreBackend, options: OpenLibraryOptions = {}) {
  const store = await openLibrary(await backend.newLocation(), options);
  const session = await store.sessions.create('drive', [], null);
  const analysis = await store.analyses.create({
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

for (const backend of storeBackends) ownershipTests(backend);

function ownershipTests(backend: StoreBackend): void {
  const it = (name: string, fn: () => Promise<void>) => test(`${backend.name}: ${name}`, { skip: backend.skip }, fn);

  it('an analysis claimed by a live process is refused to another, naming process, host, start and the stale time', async () => {
    const { store, analysisId } = await libraryWithAnalysis(backend);
    const owners = store.owners;
    const first = otherProcess();
    await owners.claim(analysisId, first);
    await assert.rejects(
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
    await owners.claim(analysisId, first);
    assert.equal(await owners.beat(analysisId, first.token), true);
    await store.close();
  });

  it('a heartbeat older than the stale time lets another process take over; the old owner then learns it lost', async () => {
    let now = 1_000_000;
    const { store, analysisId } = await libraryWithAnalysis(backend, { now: () => now });
    const owners = store.owners;
    const first = otherProcess();
    await owners.claim(analysisId, first);
    now += STALE_AFTER_MS - 1;
    await assert.rejects(() => owners.claim(analysisId, newOwner()), AnalysisOwnedError);
    now += 2;
    const second = newOwner();
    await owners.claim(analysisId, second);
    assert.equal(await owners.holds(analysisId, second.token), true);
    assert.equal(
      await owners.beat(analysisId, first.token),
      false,
      'the first owner finds it no longer holds the analysis',
    );
    await store.close();
  });

  it('an owner whose process died on this host is replaced at once, without waiting for its heartbeat (kill -9)', async () => {
    const { store, analysisId } = await libraryWithAnalysis(backend);
    const owners = store.owners;
    await owners.claim(analysisId, { ...newOwner(), pid: deadPid() });
    assert.equal(await owners.live(analysisId), undefined);
    const next = newOwner();
    await owners.claim(analysisId, next);
    assert.equal(await owners.holds(analysisId, next.token), true);
    await store.close();
  });

  it('a released claim frees the analysis; deleting the analysis deletes its claim', async () => {
    const { store, analysisId } = await libraryWithAnalysis(backend);
    const owners = store.owners;
    const first = otherProcess();
    await owners.claim(analysisId, first);
    await owners.release(analysisId, newOwner().token); // another token releases nothing
    assert.ok(await owners.live(analysisId));
    await owners.release(analysisId, first.token);
    assert.equal(await owners.live(analysisId), undefined);
    await owners.claim(analysisId, first);
    await store.sessions.delete((await store.analyses.get(analysisId)).sessionId);
    await store.close();
    assert.equal(await queryNumber(store.path, 'SELECT count(*) FROM analysis_owners'), 0);
  });

  it('refusing to cancel or delete names the owner, but not when the owner is this process', async () => {
    const { store, analysisId } = await libraryWithAnalysis(backend);
    const owners = store.owners;
    const mine = newOwner();
    await owners.claim(analysisId, mine);
    await assert.doesNotReject(() => owners.refuseIfOwnedElsewhere(analysisId, 'delete session 1'));
    await owners.release(analysisId, mine.token);
    await owners.claim(analysisId, otherProcess());
    await assert.rejects(
      () => owners.refuseIfOwnedElsewhere(analysisId, 'delete session 1'),
      /^AppError: Cannot delete session 1: analysis \d+ is being run by process \d+ .*; stop it in that process$/,
    );
    await store.close();
  });
}
