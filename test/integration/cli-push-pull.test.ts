import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLibrary } from '../../src-main/library/index.js';
import { runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { postgresUnavailable, testPostgres } from '../helpers/postgres.js';
import { queryLibrary, queryNumber } from '../helpers/store-backends.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
const dir = tempDir('dml-push-');
const local = join(dir, 'local.sqlite');
let team = '';

/** Every table a session's copy fills, with what identifies a row apart from the library's own ids. */
const TABLES = [
  'sessions',
  'source_files',
  'analyses',
  'frames',
  'frame_maps',
  'frame_regions',
  'frame_descriptors',
  'timeline_chunks',
  'event_settings',
  'events',
  'flags',
  'taught_classes',
  'taught_shots',
];

before(async () => {
  if (skip) return;
  // Two drives analysed by camvid-open (an embedding model: regions and descriptors are stored), flagged on a
  // frame and on an event, and a taught class with a shot on the first drive.
  for (const [name, start] of [
    ['a.mp4', 0],
    ['b.mp4', 30],
  ] as const) {
    const drive = clip(dir, name, 12, ['-ss', String(start), '-c:v', 'libx264', '-preset', 'ultrafast']);
    const analysed = await runCli(['analyze', drive, '--library', local, '--model', 'camvid-open', '--fps', '1']);
    assert.equal(analysed.code, 0, analysed.stderr);
  }
  const store = await openLibrary(local);
  try {
    const analysisId = (await store.sessions.get(1)).latestAnalysis!.id;
    // The reviewer's own event settings, low enough for these short drives to have events.
    const settings = { threshold: 0.05, hysteresis: 0.01, minGapMs: 1000, minFrames: 1, minDurationMs: 0 };
    const [event] = await store.events.recompute(analysisId, settings);
    assert.ok(event, 'the drive has an event to flag');
    await store.flags.add({ analysisId, eventId: event.id, category: 'hazard', note: 'event' });
    await store.flags.add({ analysisId, frameIndex: 3, category: 'unknown-object', note: 'frame flag' });
    const modelSha256 = (await store.analyses.plan(analysisId)).modelSha256;
    await store.knowledge.add({
      modelSha256,
      embeddingDim: 2,
      name: 'trolley',
      color: [10, 20, 30],
      prototypes: [[0.6, 0.8]],
      acceptanceRadius: 0.4,
      createdBy: 'test',
      shots: [
        {
          frame: { analysisId, frameIndex: 3 },
          description: 'frame 3',
          pixels: 4,
          mask: { width: 2, height: 2, counts: [0, 4] },
        },
      ],
    });
  } finally {
    await store.close();
  }
  team = await (await testPostgres()).createDatabase();
});

after(async () => {
  if (team) await (await testPostgres()).stop();
});

const lastJson = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

async function counts(location: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of TABLES) result[table] = await queryNumber(location, `SELECT count(*) FROM ${table}`);
  return result;
}

/**
 * A session's rows in every table, without the ids a library gives them: a flag's event as the event's frames,
 * an analysis's knowledge version left out (each library numbers its own).
 */
async function sessionRows(location: string, sessionId: number): Promise<Record<string, unknown[]>> {
  const analyses = `SELECT id FROM analyses WHERE session_id = ${sessionId}`;
  const byAnalysis = (table: string, order: string) =>
    queryLibrary(location, `SELECT * FROM ${table} WHERE analysis_id IN (${analyses}) ORDER BY ${order}`);
  const strip = (rows: Record<string, unknown>[], ...keys: string[]) =>
    rows.map((row) => {
      const kept = Object.fromEntries(Object.entries(row).filter(([key]) => !keys.includes(key)));
      // Both databases' answers as the same values: blobs as bytes, numbers as numbers.
      return JSON.parse(
        JSON.stringify(kept, (_key, value: unknown) =>
          value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
        ),
        (_key, value: unknown) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value),
      ) as unknown;
    });
  return {
    session: strip(await queryLibrary(location, `SELECT * FROM sessions WHERE id = ${sessionId}`), 'id'),
    sources: strip(
      await queryLibrary(location, `SELECT * FROM source_files WHERE session_id = ${sessionId} ORDER BY position`),
      'id',
      'session_id',
    ),
    analyses: strip(
      await queryLibrary(location, `SELECT * FROM analyses WHERE session_id = ${sessionId} ORDER BY created_at`),
      'id',
      'session_id',
      'knowledge_version',
    ),
    frames: strip(await byAnalysis('frames', 'analysis_id, idx'), 'analysis_id'),
    maps: strip(await byAnalysis('frame_maps', 'analysis_id, idx'), 'analysis_id'),
    regions: strip(await byAnalysis('frame_regions', 'analysis_id, idx'), 'analysis_id'),
    descriptors: strip(await byAnalysis('frame_descriptors', 'analysis_id, idx'), 'analysis_id'),
    timeline: strip(await byAnalysis('timeline_chunks', 'analysis_id, chunk'), 'analysis_id'),
    eventSettings: strip(await byAnalysis('event_settings', 'analysis_id'), 'analysis_id'),
    events: strip(await byAnalysis('events', 'analysis_id, start_frame'), 'id', 'analysis_id'),
    flags: strip(
      await queryLibrary(
        location,
        `SELECT f.frame_index, f.time_ms, f.category, f.note, f.created_at, e.start_frame AS event_start, e.end_frame AS event_end
         FROM flags f LEFT JOIN events e ON e.id = f.event_id WHERE f.session_id = ${sessionId} ORDER BY f.created_at`,
      ),
    ),
  };
}

test('push copies every session of a file into a team database; pushing again copies nothing', { skip }, async () => {
  const pushed = await runCli(['push', '--library', local, '--database', team, '--json']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const report = lastJson(pushed.stdout) as {
    sessions: { created: boolean }[];
    analyses: { copied: boolean; frames: number }[];
    flags: { copied: number };
    taughtClasses: { copied: string[] };
  };
  assert.deepEqual(
    report.sessions.map((session) => session.created),
    [true, true],
  );
  assert.deepEqual(
    report.analyses.map((analysis) => [analysis.copied, analysis.frames]),
    [
      [true, 12],
      [true, 12],
    ],
  );
  assert.deepEqual(report.taughtClasses.copied, ['trolley']);
  assert.equal(report.flags.copied, 2);
  const before = await counts(team);
  assert.deepEqual(before, await counts(local));
  for (const id of [1, 2]) assert.deepEqual(await sessionRows(team, id), await sessionRows(local, id));

  const again = await runCli(['push', '--library', local, '--database', team, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(lastJson(again.stdout), {
    sessions: [
      { from: 1, to: 1, name: 'a.mp4', created: false },
      { from: 2, to: 2, name: 'b.mp4', created: false },
    ],
    analyses: [
      { from: 1, to: 1, copied: false, frames: 0, why: 'already there' },
      { from: 2, to: 2, copied: false, frames: 0, why: 'already there' },
    ],
    flags: { copied: 0, alreadyThere: 2, onAnalysisNotCopied: 0 },
    taughtClasses: { copied: [], skipped: ['trolley'] },
  });
  assert.deepEqual(await counts(team), before);
});

test('pull copies a team session into a file: file to team to file gives the same session', { skip }, async () => {
  const copy = join(dir, 'pulled.sqlite');
  const pulled = await runCli(['pull', '--database', team, '--session', '1', '--library', copy, '--json']);
  assert.equal(pulled.code, 0, pulled.stderr);
  const report = lastJson(pulled.stdout) as { sessions: { from: number; to: number }[] };
  assert.deepEqual(report.sessions, [{ from: 1, to: 1, name: 'a.mp4', created: true }]);
  assert.deepEqual(await sessionRows(copy, 1), await sessionRows(local, 1));
  assert.equal((await sessionRows(copy, 1)).flags?.length, 2);
  // The taught class came along, its shot on the copied analysis.
  assert.deepEqual(await queryLibrary(copy, 'SELECT name FROM taught_classes'), [{ name: 'trolley' }]);
  assert.deepEqual(await queryLibrary(copy, 'SELECT analysis_id, frame_index FROM taught_shots'), [
    { analysis_id: 1, frame_index: 3 },
  ]);
  // And what the CLI prints of it is the same as of the original.
  for (const args of [['events'], ['frames', '--top', '50']]) {
    const original = await runCli([args[0]!, '--session', '1', ...args.slice(1), '--library', local, '--json']);
    const copied = await runCli([args[0]!, '--session', '1', ...args.slice(1), '--library', copy, '--json']);
    assert.equal(copied.stdout, original.stdout);
  }
  const pulledAgain = await runCli(['pull', '--database', team, '--session', '1', '--library', copy, '--json']);
  assert.equal(pulledAgain.code, 0, pulledAgain.stderr);
  assert.deepEqual((lastJson(pulledAgain.stdout) as typeof report).sessions, [
    { from: 1, to: 1, name: 'a.mp4', created: false },
  ]);
});

test('a copy that fails on the way leaves the target as it was', { skip }, async () => {
  const target = await (await testPostgres()).createDatabase();
  // The library's tables, then a trigger that refuses flags: the copy fails after sessions, analyses and
  // frames were written in its transaction.
  await (await openLibrary(target)).close();
  await queryLibrary(
    target,
    `CREATE FUNCTION refuse_flag() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'flags refused for the test'; END $$ LANGUAGE plpgsql`,
  );
  await queryLibrary(
    target,
    'CREATE TRIGGER refuse_flag BEFORE INSERT ON flags FOR EACH ROW EXECUTE FUNCTION refuse_flag()',
  );
  const failed = await runCli(['push', '--library', local, '--database', target]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /flags refused for the test/);
  for (const [table, count] of Object.entries(await counts(target))) assert.equal(count, 0, table);
});

test('push and pull say what is missing from their command line', async () => {
  const noDatabase = await runCli(['push', '--library', local]);
  assert.equal(noDatabase.code, 2);
  assert.match(noDatabase.stderr, /--database URL names the team database/);
  const noSession = await runCli(['pull', '--database', 'postgresql://u@127.0.0.1/db', '--library', local]);
  assert.equal(noSession.code, 2);
  assert.match(noSession.stderr, /--session ID names what to copy/);
});
