import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { AppError } from '../../src-main/core/errors.js';
import type { ProbedSource } from '../../src-main/footage/index.js';
import { openLibraryDatabase, schemaVersion, type OpenDatabaseOptions } from '../../src-main/library/database.js';
import { migrations, openLibrary, type StoredFrame } from '../../src-main/library/index.js';
import { decodeRegions, encodeRegions } from '../../src-main/library/region-codec.js';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { cliEntry, repoRoot } from '../helpers/cli.js';
import { writeSyntheticSession } from '../helpers/synthetic-library.js';

const tempLibrary = () => join(mkdtempSync(join(tmpdir(), 'dml-lib-')), 'library.sqlite');

/** Looks inside (or changes) a library file with SQL, on a connection of its own. */
function inLibraryFile(path: string, work: (db: Database.Database) => void, options: OpenDatabaseOptions = {}): void {
  const db = openLibraryDatabase(path, options);
  try {
    work(db);
  } finally {
    db.close();
  }
}

const source: ProbedSource = {
  path: '/drives/a.mp4',
  kind: 'video',
  durationMs: 10_000,
  fps: 30,
  width: 1920,
  height: 1080,
  rotation: 0,
  createdAt: null,
  sha256: 'ab'.repeat(32),
  frameCount: 300,
  startMs: 0,
  codec: 'h264',
  images: null,
};

const classes = [
  { index: 0, name: 'road', color: [128, 64, 128] as [number, number, number], taught: false },
  { index: 1, name: 'car', color: [64, 0, 128] as [number, number, number], taught: false },
];

function analysisPlan(sessionId: number) {
  return {
    sessionId,
    modelName: 'camvid',
    modelSha256: 'cd'.repeat(32),
    knowledgeVersion: null,
    sampleFps: 1,
    inputWidth: 4,
    inputHeight: 2,
    classes,
    threshold: 0.5,
    pixelThreshold: 0.3,
    framesTotal: 10,
  };
}

function analysedLibrary(scores: number[]) {
  return analysedLibraryAt(tempLibrary(), scores);
}

function analysedLibraryAt(path: string, scores: number[]) {
  const store = openLibrary(path);
  const { sessionId, analysisId } = writeSyntheticSession(store, {
    name: 'drive',
    sources: [source, { ...source, path: '/drives/b.mp4' }],
    analysis: analysisPlan(0),
    frames: scores.length,
    frame: (index) => storedFrame(index, scores[index]!),
  });
  return { store, session: store.sessions.get(sessionId), analysis: store.analyses.plan(analysisId) };
}

/** Frame 2 holds two regions, the others none. */
const regionsOfFrame2: UnknownRegion[] = [
  {
    pixels: 3,
    x: 2,
    y: 0,
    width: 2,
    height: 2,
    meanScore: Math.fround(0.875),
    border: ['top', 'right'],
    drivable: 'away',
    inSky: false,
    place: 'sky-or-top',
    score: Math.fround(0.4375),
  },
  {
    pixels: 5,
    x: 0,
    y: 1,
    width: 3,
    height: 1,
    meanScore: Math.fround(0.9),
    border: ['bottom', 'left'],
    drivable: 'on',
    inSky: true,
    place: 'road',
    score: Math.fround(0.9),
  },
];

function storedFrame(index: number, score: number): StoredFrame {
  return {
    index,
    sourceIndex: index < 5 ? 0 : 1,
    timeMs: index * 1000,
    score,
    unknownFraction: score / 10,
    largestRegion: index === 2 ? { area: 0.1, x: 1, y: 0, width: 2, height: 1 } : null,
    classAreas: [0.75, index % 2 === 0 ? 0.25 : 0],
    regions: { mapWidth: 4, mapHeight: 2, regions: index === 2 ? regionsOfFrame2 : [] },
    classMapPng: Buffer.from([1, index]),
    oodMapPng: Buffer.from([2, index]),
    previewJpeg: Buffer.from([3, index]),
  };
}

function expectAppError(fn: () => unknown, code: string, mention: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, mention);
    return true;
  });
}

test('a new library is migrated to the newest version, in WAL mode with foreign keys on', () => {
  const path = tempLibrary();
  openLibrary(path).close();
  // On a connection opened the way openLibrary opens its own.
  inLibraryFile(path, (db) => {
    assert.equal(schemaVersion(db), migrations.at(-1)!.version);
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
      version: number;
    }[];
    assert.deepEqual(
      recorded.map((row) => row.version),
      migrations.map((migration) => migration.version),
    );
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  });
});

test('a session says whether it has a thumbnail, so the library shows a placeholder instead of a broken image', () => {
  const store = openLibrary(tempLibrary());
  const without = store.sessions.create('no preview', [source], null);
  const withThumbnail = store.sessions.create('preview', [source], Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  assert.equal(without.hasThumbnail, false);
  assert.equal(withThumbnail.hasThumbnail, true);
  assert.equal(store.sessions.thumbnail(without.id), undefined);
  store.close();
});

test('reopening applies only the migrations not yet recorded', () => {
  const path = tempLibrary();
  openLibrary(path, { migrations: migrations.slice(0, 1) }).close();
  openLibrary(path).close();
  inLibraryFile(path, (db) => assert.equal(schemaVersion(db), migrations.at(-1)!.version));
});

test('a library written by a newer version is refused, untouched', () => {
  const path = tempLibrary();
  openLibrary(path).close();
  inLibraryFile(path, (db) => db.prepare("INSERT INTO schema_migrations VALUES (99, 'from the future', 'now')").run());
  expectAppError(() => openLibrary(path), 'library_too_new', /newer dmlreview \(schema version 99/);
  const raw = new Database(path);
  assert.equal(raw.prepare('SELECT count(*) FROM schema_migrations WHERE version = 99').pluck().get(), 1);
  raw.close();
});

test('migrations out of order are a programming error caught on open', () => {
  const shuffled = [migrations[1]!, migrations[0]!];
  assert.throws(() => openLibrary(tempLibrary(), { migrations: shuffled }), /out of order/);
});

test('a file that is not a database is refused with the path named', () => {
  const path = tempLibrary();
  writeFileSync(path, 'this is a shopping list, not a library\n'.repeat(200));
  expectAppError(() => openLibrary(path), 'library_not_database', /is not a dmlreview library/);
});

test('a library locked by another process is refused after the busy timeout', () => {
  const path = tempLibrary();
  openLibrary(path).close();
  const other = new Database(path);
  other.pragma('locking_mode = EXCLUSIVE');
  other.exec('BEGIN EXCLUSIVE');
  try {
    expectAppError(() => openLibrary(path, { busyTimeoutMs: 100 }), 'library_locked', /locked by another program/);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
});

test(
  'a read-only library is browsed by the CLI; analysing into it is refused in one line that says it needs write access',
  { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as another user' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'dml-ro-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 'library.sqlite');
    const store = openLibrary(path);
    store.sessions.create('drive', [source], null);
    store.close();
    chmodSync(path, 0o644);
    // root ignores permission bits: the CLI runs as nobody, for whom the root-owned file and folder are read-only.
    const asNobody = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cliEntry, ...args, '--library', path], {
        cwd: repoRoot,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        env: { ...process.env, HOME: dir },
      });
    const listed = asNobody('sessions', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { name: string }[]).map((session) => session.name),
      ['drive'],
    );
    const refused = asNobody('analyze', '/drives/a.mp4', '--json');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^dmlreview analyze: The library .*library\.sqlite is open read-only .*analysis, flags and teaching need write access/,
    );
    assert.equal(refused.stderr.trim().split('\n').length, 1);
  },
);

/** A tmpfs mount (root only), remounted read-only after `fill` wrote into it; a string says why it cannot be. */
function readOnlyMount(fill: (dir: string) => void): { dir: string; unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'dml-rofs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return `mount failed here: ${String(error).split('\n')[0]}`;
  }
  const unmount = () => execFileSync('umount', [dir]);
  try {
    fill(dir);
    execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' });
  } catch (error) {
    unmount();
    throw error;
  }
  return { dir, unmount };
}

test('a library on a read-only disk opens read-only: every view answers, every write is refused as library_read_only', (t) => {
  const mount = readOnlyMount((dir) => {
    const { store } = analysedLibraryAt(join(dir, 'library.sqlite'), [0.1, 0.9, 0.2]);
    store.close();
  });
  if (typeof mount === 'string') return t.skip(mount);
  try {
    const store = openLibrary(join(mount.dir, 'library.sqlite'));
    assert.equal(store.readonly, true);
    const [session] = store.sessions.list();
    assert.equal(session?.name, 'drive');
    const analysisId = session.latestAnalysis!.id;
    assert.deepEqual(store.frames.timeline(analysisId).scores, Float64Array.of(0.1, 0.9, 0.2));
    assert.ok(store.frames.map(analysisId, 1, 'preview'));
    expectAppError(
      () => store.requireWritable(),
      'library_read_only',
      /analysis, flags and teaching need write access/,
    );
    assert.throws(() => store.flags.add({ analysisId, frameIndex: 1, category: 'hazard', note: '' }), /readonly/);
    store.close();
  } finally {
    mount.unmount();
  }
});

test('sessions keep their sources in timeline order with offsets', () => {
  const { store, session } = analysedLibrary([0.1]);
  assert.deepEqual(
    session.sources.map((entry) => [entry.path, entry.offsetMs]),
    [
      ['/drives/a.mp4', 0],
      ['/drives/b.mp4', 10_000],
    ],
  );
  assert.equal(session.durationMs, 20_000);
  assert.equal(store.sessions.list().length, 1);
  store.close();
});

test('frames come back as stored: timeline, one frame, maps', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.2, 0.9, 0.3]);
  assert.deepEqual(store.frames.timeline(analysis.id), {
    analysisId: analysis.id,
    timesMs: Float64Array.of(0, 1000, 2000, 3000),
    scores: Float64Array.of(0.1, 0.2, 0.9, 0.3),
  });
  const frame = store.frames.get(analysis.id, 2);
  assert.deepEqual(frame, {
    index: 2,
    timeMs: 2000,
    score: 0.9,
    unknownFraction: 0.09,
    largestRegion: { area: 0.1, x: 1, y: 0, width: 2, height: 1 },
    classAreas: [0.75, 0.25],
    flagged: false,
  });
  assert.deepEqual(store.frames.map(analysis.id, 3, 'ood_map'), Buffer.from([2, 3]));
  assert.equal(store.analyses.get(analysis.id).framesDone, 4);
  store.close();
});

test('the timeline is packed across chunk boundaries in index order', () => {
  const { store, analysis } = analysedLibrary([]);
  const scores = Array.from({ length: 2500 }, (_, i) => (i % 97) / 97);
  for (let first = 0; first < scores.length; first += 700) {
    store.frames.write(
      analysis.id,
      scores.slice(first, first + 700).map((score, i) => storedFrame(first + i, score)),
    );
  }
  const timeline = store.frames.timeline(analysis.id);
  assert.deepEqual(timeline.scores, Float64Array.from(scores));
  assert.deepEqual(
    timeline.timesMs,
    Float64Array.from(scores, (_, i) => i * 1000),
  );
  store.close();
});

test('writing a frame index twice fails the whole batch and keeps what was stored', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.2]);
  assert.throws(
    () => store.frames.write(analysis.id, [storedFrame(2, 0.5), storedFrame(1, 0.5)]),
    /UNIQUE|PRIMARY KEY/,
  );
  assert.deepEqual(store.frames.timeline(analysis.id).scores, Float64Array.of(0.1, 0.2));
  assert.equal(store.analyses.get(analysis.id).framesDone, 2);
  store.close();
});

test('top frames rank by score and filter by score, class and flag', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.8, 0.5, 0.9, 0.3]);
  const top = store.frames.top({ analysisId: analysis.id, offset: 0, limit: 2 });
  assert.equal(top.total, 5);
  assert.deepEqual(
    top.frames.map((frame) => frame.index),
    [3, 1],
  );
  assert.deepEqual(
    store.frames
      .top({ analysisId: analysis.id, offset: 1, limit: 10, minScore: 0.5 })
      .frames.map((frame) => frame.index),
    [1, 2],
  );
  assert.deepEqual(
    store.frames
      .top({ analysisId: analysis.id, offset: 0, limit: 10, classIndex: 1 })
      .frames.map((frame) => frame.index),
    [2, 4, 0],
  );
  store.flags.add({ analysisId: analysis.id, frameIndex: 4, category: 'hazard', note: '' });
  const flagged = store.frames.top({ analysisId: analysis.id, offset: 0, limit: 10, flaggedOnly: true });
  assert.deepEqual([flagged.total, flagged.frames[0]?.index, flagged.frames[0]?.flagged], [1, 4, true]);
  store.close();
});

test('events are recomputed with new settings, stored, ranked by peak, and flags follow them', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.7, 0.6, 0.1, 0.95, 0.1, 0.8, 0.1, 0.1, 0.1]);
  const noPersistence = { minFrames: 1, minDurationMs: 0 };
  const first = store.events.recompute(analysis.id, { ...store.analyses.eventSettings(analysis.id), ...noPersistence });
  assert.deepEqual(
    first.map((event) => [event.peakFrame, event.peakScore]),
    [
      [4, 0.95],
      [6, 0.8],
      [1, 0.7],
    ],
  );
  const flag = store.flags.add({ analysisId: analysis.id, eventId: first[2]!.id, category: 'hazard', note: 'cyclist' });
  assert.deepEqual([flag.frameIndex, flag.eventId], [1, first[2]!.id]);
  // A preview counts without storing: the stored events stay the first three.
  assert.equal(
    store.events.count(analysis.id, { threshold: 0.65, hysteresis: 0, minGapMs: 3001, ...noPersistence }),
    1,
  );
  assert.equal(store.events.count(analysis.id, { threshold: 0.9, hysteresis: 0, minGapMs: 0, ...noPersistence }), 1);
  assert.equal(store.events.list(analysis.id).length, 3);
  const mergedSettings = { threshold: 0.65, hysteresis: 0, minGapMs: 3001, ...noPersistence };
  const merged = store.events.recompute(analysis.id, mergedSettings);
  assert.deepEqual(
    merged.map((event) => [event.startMs, event.endMs, event.peakFrame]),
    [[1000, 6000, 4]],
  );
  assert.deepEqual(store.analyses.eventSettings(analysis.id), mergedSettings);
  assert.deepEqual(store.events.list(analysis.id), merged);
  assert.equal(store.flags.get(flag.id).eventId, merged[0]!.id);
  store.close();
});

test('a new analysis scores frames by regions, with persistent events by default', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.7, 0.1, 0.8, 0.8, 0.1]);
  assert.equal(store.analyses.get(analysis.id).frameScore, 'regions');
  assert.deepEqual(store.analyses.eventSettings(analysis.id), {
    threshold: 0.5,
    hysteresis: 0.05, // a quarter of the way down to the pixel threshold 0.3
    minGapMs: 1000,
    minFrames: 2,
    minDurationMs: 500,
  });
  const events = store.events.finish(analysis.id);
  assert.deepEqual(
    events.map((event) => [event.startMs, event.endMs]),
    [[3000, 4000]],
    'frame 1 blinks alone; the calibrated threshold is not lowered to the drive',
  );
  store.close();
});

test('regions come back as stored, largest first, with the size of their maps', () => {
  const { store, analysis } = analysedLibrary([0.1, 0.2, 0.9]);
  assert.deepEqual(store.frames.regions(analysis.id, 2), {
    analysisId: analysis.id,
    frameIndex: 2,
    hasRegions: true,
    mapWidth: 4,
    mapHeight: 2,
    regions: [regionsOfFrame2[1], regionsOfFrame2[0]],
  });
  assert.deepEqual(store.frames.regions(analysis.id, 1).regions, []);
  expectAppError(() => store.frames.regions(analysis.id, 3), 'not_found', /Frame 3 of analysis/);
  inLibraryFile(store.path, (db) =>
    assert.equal(db.prepare('SELECT length(regions) FROM frame_regions WHERE idx = 2').pluck().get(), 6 + 2 * 22),
  );
  store.close();
});

test('a damaged regions blob is an error naming the frame and what was found', () => {
  const blob = encodeRegions({ mapWidth: 4, mapHeight: 2, regions: regionsOfFrame2 });
  assert.deepEqual(decodeRegions(blob, 'x').regions, regionsOfFrame2);
  assert.throws(
    () => decodeRegions(blob.subarray(0, 20), 'frame 2 of analysis 1'),
    /unknown regions of frame 2 of analysis 1 are damaged \(20 bytes, format 1; expected format 1, 6 \+ 22 per region\)/,
  );
});

test('a library from before regions opens: its analyses say they have no regions, their events no persistence', () => {
  const path = tempLibrary();
  const before4 = { migrations: migrations.filter((migration) => migration.version < 4) };
  const old = openLibrary(path, before4);
  const session = old.sessions.create('drive', [source], null);
  old.close();
  inLibraryFile(
    path,
    (db) => {
      db.exec(`INSERT INTO analyses (session_id, model_name, model_sha256, input_width, input_height, classes,
    threshold, status, created_at) VALUES (${session.id}, 'camvid', 'ab', 4, 2, '[]', 0.7, 'done', 'then')`);
      db.exec(`INSERT INTO frames (analysis_id, idx, source_index, time_ms, score, unknown_fraction, class_areas)
    VALUES (1, 0, 0, 0, 0.8, 0.1, x'')`);
      db.exec('INSERT INTO event_settings VALUES (1, 0.7, 0.05, 1000)');
    },
    before4,
  );
  const store = openLibrary(path);
  assert.equal(store.analyses.get(1).frameScore, 'pixel-p90');
  assert.deepEqual(store.frames.regions(1, 0), {
    analysisId: 1,
    frameIndex: 0,
    hasRegions: false,
    mapWidth: 0,
    mapHeight: 0,
    regions: [],
  });
  assert.deepEqual(store.analyses.eventSettings(1), {
    threshold: 0.7,
    hysteresis: 0.05,
    minGapMs: 1000,
    minFrames: 1,
    minDurationMs: 0,
  });
  store.close();
});

test('flags are updated and removed; unknown ids are not_found', () => {
  const { store, session, analysis } = analysedLibrary([0.1, 0.2]);
  const flag = store.flags.add({ analysisId: analysis.id, frameIndex: 1, category: 'hazard', note: 'a' });
  assert.deepEqual(store.flags.update(flag.id, { note: 'b' }).note, 'b');
  assert.deepEqual(
    store.flags.list(session.id).map((entry) => entry.timeMs),
    [1000],
  );
  store.flags.remove(flag.id);
  expectAppError(() => store.flags.remove(flag.id), 'not_found', /Flag/);
  expectAppError(
    () => store.flags.add({ analysisId: analysis.id, frameIndex: 7, category: 'hazard', note: '' }),
    'not_found',
    /Frame 7/,
  );
  store.close();
});

test('a new analysis takes over the flags of the one it follows, by time, once', () => {
  const { store, session, analysis } = analysedLibrary([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.1]);
  store.analyses.update(analysis.id, { status: 'done' });
  store.flags.add({ analysisId: analysis.id, frameIndex: 2, category: 'hazard', note: 'cyclist' });
  store.flags.add({ analysisId: analysis.id, frameIndex: 9, category: 'other', note: 'late' });
  // The next analysis samples at 2 fps and stops at 6 s: frame 2 (2 s) is its frame 4; 9 s is beyond its end.
  const next = store.analyses.create({ ...analysisPlan(session.id), sampleFps: 2, framesTotal: 13 });
  store.frames.write(
    next.id,
    Array.from({ length: 13 }, (_, index) => ({ ...storedFrame(index, 0.5), timeMs: index * 500 })),
  );
  assert.equal(store.flags.carry(next.id), 1);
  assert.equal(store.flags.carry(next.id), 0, 'a second run adds nothing');
  const carried = store.flags.list(session.id).filter((flag) => flag.analysisId === next.id);
  assert.deepEqual(
    carried.map((flag) => [flag.frameIndex, flag.timeMs, flag.category, flag.note]),
    [[4, 2000, 'hazard', 'cyclist']],
  );
  store.close();
});

test('deleting a session removes its analyses, frames and maps', () => {
  const { store, session, analysis } = analysedLibrary([0.1, 0.2]);
  store.sessions.delete(session.id);
  inLibraryFile(store.path, (db) => {
    assert.equal(db.prepare('SELECT count(*) FROM frames').pluck().get(), 0);
    assert.equal(db.prepare('SELECT count(*) FROM frame_maps').pluck().get(), 0);
  });
  expectAppError(() => store.analyses.get(analysis.id), 'not_found', /Analysis/);
  store.close();
});
