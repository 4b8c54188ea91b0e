/**
 * A PostgreSQL server for the tests that run the library against a team's database: the one
 * DMLREVIEW_TEST_DATABASE_URL names (its user needs CREATEDB), else a private throwaway cluster started here
 * (initdb and pg_ctl from Debian's postgresql package, run as the `postgres` user when this process is root,
 * since initdb refuses root) on a free loopback port, and stopped when the test process ends. Each test gets
 * a database of its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_HOWTO =
  "install Debian's PostgreSQL (apt-get install postgresql; .ci/run does) so the tests can start a private server, or set DMLREVIEW_TEST_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DB for a server whose user may create databases";

/** Why PostgreSQL tests cannot run here; undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (process.env.DMLREVIEW_TEST_DATABASE_URL) return undefined;
  if (postgresBin()) return undefined;
  return `no PostgreSQL here (no initdb in /usr/lib/postgresql/*/bin or on PATH, no DMLREVIEW_TEST_DATABASE_URL): ${POSTGRES_HOWTO}`;
}

/** The folder of initdb and pg_ctl, newest version first; undefined when none is installed. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found ? join(found, '..') : undefined;
}

/**
 * The role the private cluster signs in by password (scram-sha-256), though it trusts every other: tests of
 * a refused password create it. A server DMLREVIEW_TEST_DATABASE_URL names has rules of its own.
 */
export const PASSWORD_ROLE = 'dml_password_role';

export interface TestPostgres {
  /** A new, empty database; its connection string. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let shared: Promise<TestPostgres> | undefined;

/** The server of this test process, started on first use. */
export function testPostgres(): Promise<TestPostgres> {
  shared ??= start();
  return shared;
}

async function start(): Promise<TestPostgres> {
  const reason = postgresUnavailable();
  if (reason) throw new Error(`PostgreSQL tests cannot run: ${reason}`);
  const given = process.env.DMLREVIEW_TEST_DATABASE_URL;
  if (given) return databasesOn(given, async () => undefined);
  const cluster = await startCluster(postgresBin()!);
  return databasesOn(cluster.url, async () => cluster.stop());
}

/** Databases made on the server `adminUrl` connects to, dropped again by stop(). */
function databasesOn(adminUrl: string, stopServer: () => Promise<void>): TestPostgres {
  const made: string[] = [];
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    async createDatabase() {
      const name = `dmltest_${process.pid}_${made.length + 1}`;
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name}`));
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      made.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.href;
    },
    async stop() {
      await admin(async (client) => {
        for (const name of made) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }).catch(() => undefined);
      await stopServer();
    },
  };
}

interface Cluster {
  url: string;
  stop(): Promise<void>;
}

async function startCluster(bin: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dml-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, tool),
      asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args,
      {
        stdio: 'pipe',
        cwd: dir,
      },
    );
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const hba = join(data, 'pg_hba.conf');
  writeFileSync(hba, `host all ${PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
  const port = await freePort();
  // Durability off: a test database is thrown away, and fsync on a shared disk is most of its time.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', options]);
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A test process that ends without its after() hooks still takes its server with it.
  process.once('exit', stopNow);
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, stop: async () => stopNow() };
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

/** A loopback port nothing listens on now, as the kernel hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
