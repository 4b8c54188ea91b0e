/**
 * A PostgreSQL server for the tests and benchmarks that run the library against a team's database: the one
 * DMLREVIEW_TEST_DATABASE_URL names (its user needs CREATEDB), else a private throwaway cluster started here
 * (initdb and pg_ctl from Debian's postgresql package, run as the `postgres` user when this process is root,
 * since initdb refuses root) on a free loopback port, and stopped when the process ends. Each test gets a
 * database of its own. A private cluster can also be stopped and started again (the fleet's fault tests and
 * benchmark); a server the variable names cannot.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { childPids, processCpuSeconds } from './proc-cpu.js';

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
  /** The server's own process and its stop/start, on a private cluster only. */
  cluster?: ClusterControl;
}

export interface ClusterControl {
  /** What a team's server does when it goes down for maintenance: `pg_ctl stop -m fast`. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  startServer(): Promise<void>;
  /** CPU seconds the server's processes have used so far (postmaster, backends alive and exited). */
  cpuSeconds(): number;
}

export interface PostgresOptions {
  /**
   * fsync and synchronous commit on, as a team's server runs: for figures. Off by default, since a test
   * database is thrown away and fsync on a shared disk is most of its time.
   */
  durable?: boolean;
}

let shared: Promise<TestPostgres> | undefined;

/** The server of this test process, started on first use. */
export function testPostgres(): Promise<TestPostgres> {
  shared ??= start();
  return shared;
}

/**
 * A server of its own for the caller (a benchmark): the one DMLREVIEW_TEST_DATABASE_URL names, else a new
 * private cluster, stopped by the result's stop().
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const reason = postgresUnavailable();
  if (reason) throw new Error(`PostgreSQL cannot run: ${reason}`);
  const given = process.env.DMLREVIEW_TEST_DATABASE_URL;
  if (given) return databasesOn(given, async () => undefined);
  const cluster = await startCluster(postgresBin()!, options);
  return { ...databasesOn(cluster.url, async () => cluster.stop()), cluster: cluster.control };
}

function start(): Promise<TestPostgres> {
  return startPostgres();
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
  control: ClusterControl;
}

async function startCluster(bin: string, { durable = false }: PostgresOptions): Promise<Cluster> {
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
  const durability = durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  // Room for a benchmark's 16 workers, each with its pool and its queue's connections.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300${durability}`;
  const startServer = async () => {
    run('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', options]);
  };
  await startServer();
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
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => stopNow(),
    control: {
      stopServer: async () => void run('pg_ctl', ['stop', '-w', '-D', data, '-m', 'fast']),
      startServer,
      cpuSeconds: () => serverCpuSeconds(data),
    },
  };
}

/**
 * The postmaster's CPU time with its exited children's (a backend's time is added to it when it is reaped)
 * plus every live child's.
 */
function serverCpuSeconds(data: string): number {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = processCpuSeconds(postmaster, { children: true });
  for (const child of childPids(postmaster)) {
    try {
      total += processCpuSeconds(child);
    } catch {
      // It exited between the listing and the read: its time is in the postmaster's children's by now.
    }
  }
  return total;
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
