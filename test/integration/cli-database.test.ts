import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLibrary, type StoredFrame } from '../../src-main/library/index.js';
import { runCli } from '../helpers/cli.js';
import { freePort, PASSWORD_ROLE, postgresUnavailable, testPostgres } from '../helpers/postgres.js';
import { queryLibrary } from '../helpers/store-backends.js';
import { driveLikeFrame, writeSyntheticSession } from '../helpers/synthetic-library.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
const file = join(mkdtempSync(join(tmpdir(), 'dml-cli-db-')), 'library.sqlite');
let database = '';

/** Scores above the 0.5 threshold on frames 5 to 8 (an event peaking at 8) and on frame 20 alone (the top frame). */
function frame(index: number): StoredFrame {
  const score = (index >= 5 && index < 9) || index === 20 ? 0.6 + index / 100 : 0.1 + index / 1000;
  return { ...driveLikeFrame(index), score, unknownFraction: score / 10 };
}

/** The same drive, analysed and one frame flagged, in a library at `location`. */
async function writeLibrary(location: string): Promise<void> {
  const store = await openLibrary(location);
  try {
    const { analysisId } = await writeSyntheticSession(store, { name: 'drive', frames: 30, frame });
    await store.analyses.update(analysisId, { status: 'done' });
    await store.events.finish(analysisId);
    await store.flags.add({ analysisId, frameIndex: 6, category: 'hazard', note: 'debris' });
  } finally {
    await store.close();
  }
}

before(async () => {
  await writeLibrary(file);
  if (skip) return;
  database = await (await testPostgres()).createDatabase();
  await writeLibrary(database);
});

after(async () => {
  if (database) await (await testPostgres()).stop();
});

/** The JSON a command prints, without the times the two libraries were written at. */
async function printed(args: string[]): Promise<unknown> {
  const result = await runCli([...args, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout, (key, value: unknown) => (key === 'createdAt' ? 'WRITTEN_AT' : value));
}

test('sessions, events and frames print the same for a team database as for a library file', { skip }, async () => {
  for (const command of [['sessions'], ['events', '--session', '1'], ['frames', '--session', '1', '--top', '50']]) {
    const fromFile = await printed([...command, '--library', file]);
    const fromDatabase = await printed([...command, '--database', database]);
    assert.deepEqual(fromDatabase, fromFile, command.join(' '));
  }
  const events = (await printed(['events', '--session', '1', '--database', database])) as { peak_frame: number }[];
  assert.ok(
    events.some((event) => event.peak_frame === 8),
    JSON.stringify(events),
  );
  const frames = (await printed(['frames', '--session', '1', '--top', '3', '--database', database])) as {
    index: number;
    flagged: boolean;
  }[];
  assert.deepEqual(
    frames.map((row) => [row.index, row.flagged]),
    [
      [20, false],
      [8, false],
      [7, false],
    ],
  );
});

test('--library and --database together, or a file given to --database, are usage errors', async () => {
  const both = await runCli(['sessions', '--library', file, '--database', 'postgresql://u@127.0.0.1:5432/db']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--library and --database both name a library: give one/);
  const notUrl = await runCli(['events', '--session', '1', '--database', file]);
  assert.equal(notUrl.code, 2);
  assert.match(notUrl.stderr, /--database must be a PostgreSQL connection string/);
  const urlAsFile = await runCli(['frames', '--session', '1', '--library', 'postgresql://u:secret@h/db']);
  assert.equal(urlAsFile.code, 2);
  assert.match(urlAsFile.stderr, /--library takes a library file/);
  assert.doesNotMatch(urlAsFile.stderr, /secret/);
  const noDatabase = await runCli(['sessions', '--database', 'postgresql://u:secret@127.0.0.1:5432']);
  assert.equal(noDatabase.code, 2);
  assert.match(noDatabase.stderr, /--database names no database/);
});

test('a server that does not answer is named, without the password', async () => {
  const port = await freePort();
  const result = await runCli(['sessions', '--database', `postgresql://team:s3cret@127.0.0.1:${port}/fleet`]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`postgresql://team:\\*\\*\\*@127\\.0\\.0\\.1:${port}/fleet: the PostgreSQL server does not answer`),
  );
  assert.doesNotMatch(result.stderr, /s3cret/);
});

test(
  'a user the server refuses and a database that does not exist are named, without the password',
  { skip },
  async () => {
    const server = new URL(database);
    const user = new URL(database);
    user.username = 'nobody';
    user.password = 's3cret';
    const refused = await runCli(['sessions', '--database', user.href]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`nobody:\\*\\*\\*@${server.host}.*refused the user name or password`));
    assert.doesNotMatch(refused.stderr, /s3cret/);
    const missing = new URL(database);
    missing.pathname = '/no_such_library';
    const absent = await runCli(['events', '--session', '1', '--database', missing.href]);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, new RegExp(`${server.host}/no_such_library: the database does not exist`));
  },
);

test(
  'a wrong password is refused, naming the server and the user, never the password',
  { skip: skip || (process.env.DMLREVIEW_TEST_DATABASE_URL ? 'the server given has its own sign-in rules' : false) },
  async () => {
    await queryLibrary(database, `CREATE ROLE ${PASSWORD_ROLE} LOGIN PASSWORD 'the-right-one'`);
    const url = new URL(database);
    url.username = PASSWORD_ROLE;
    url.password = 'a-wrong-one';
    const refused = await runCli(['frames', '--session', '1', '--database', url.href]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`${PASSWORD_ROLE}:\\*\\*\\*@${url.host}${url.pathname}: PostgreSQL refused the user name or password`),
    );
    assert.doesNotMatch(refused.stderr, /a-wrong-one|the-right-one/);
    // The right password signs in (the role may read nothing here: the error is another one).
    url.password = 'the-right-one';
    const signedIn = await runCli(['frames', '--session', '1', '--database', url.href]);
    assert.doesNotMatch(signedIn.stderr, /refused the user name or password/);
  },
);
