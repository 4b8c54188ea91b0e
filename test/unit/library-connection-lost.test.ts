/**
 * A team database that drops a connection (a restart, pg_terminate_backend, a network cut) while the library
 * holds it between two statements of a transaction: the transaction fails with an error, and the process stays
 * up (pg emits the loss as an 'error' event on the client, which ends the process when nobody listens).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { openLibrary } from '../../src-main/library/index.js';
import { postgresUnavailable, testPostgres } from '../helpers/postgres.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
after(async () => {
  if (!skip) await (await testPostgres()).stop();
});

test(
  'PostgreSQL: a connection cut inside a transaction fails that transaction, not the process',
  { skip },
  async () => {
    const url = await (await testPostgres()).createDatabase();
    const store = await openLibrary(url);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const transaction = store.transaction(async () => {
        await store.sessions.create('before the cut', [], null);
        await cutOtherConnections(admin);
        // The loss reaches the client as an event while no query runs on it; give it time to arrive.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await store.sessions.create('after the cut', [], null);
      });
      await assert.rejects(transaction);
      // The pool reconnects for the next query; the cut transaction stored nothing.
      assert.deepEqual(
        (await store.sessions.list()).map((session) => session.name),
        [],
      );
    } finally {
      await admin.end();
      await store.close();
    }
  },
);

async function cutOtherConnections(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ cut: boolean }>(
    'SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  assert.ok(
    rows.some((row) => row.cut),
    'no connection of the library to cut',
  );
}
