/**
 * The review server under load (`npm run bench -- server`): a 100,000-frame session served by a real
 * `dmlreview serve` process on 127.0.0.1, and 20 clients at once asking for its timeline, pages of top frames
 * and frame media, one kind after the other. Prints requests per second, p50/p99 latency, errors and the
 * server's resident memory before and after each. Bounded: BENCH_SERVER_SECONDS (default 10) per kind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mediaPaths } from '../src-shared/contract/index.js';
import { packageRoot } from '../src-main/core/paths.js';
import { openLibrary } from '../src-main/library/index.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';

const FRAMES = Number(process.env.BENCH_SERVER_FRAMES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SERVER_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_SERVER_CONCURRENCY ?? 20);

interface Served {
  child: ChildProcess;
  port: number;
  token: string;
}

/** `dmlreview serve` from source, as the tests start it; resolves once it printed its URL. */
async function startServe(library: string): Promise<Served> {
  const cli = join(packageRoot(), 'src-main', 'cli', 'index.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--library', library], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const url = new URL(line);
  return { child, port: Number(url.port), token: url.searchParams.get('token') ?? '' };
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

type Call = { method: 'GET' | 'POST'; path: string; body?: string };

/** One request on a kept-alive connection: its latency in ms, or why it failed (a status or an error code). */
function send(agent: Agent, served: Served, call: Call): Promise<number | string> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: served.port,
        method: call.method,
        path: call.path,
        headers: { authorization: `Bearer ${served.token}`, 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve(response.statusCode === 200 ? performance.now() - started : `HTTP ${response.statusCode}`),
        );
        response.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(call.body);
  });
}

const describe = (errors: Map<string, number>) =>
  errors.size === 0 ? '0 errors' : [...errors].map(([why, count]) => `${count} x ${why}`).join(', ');

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** CONCURRENCY clients, each sending `next()` calls back to back for SECONDS. */
async function load(served: Served, name: string, next: () => Call): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const before = rssMb(served.child.pid!);
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const ms = await send(agent, served, next());
      if (typeof ms === 'number') latencies.push(ms);
      else errors.set(ms, (errors.get(ms) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(34)} ${(latencies.length / seconds).toFixed(1).padStart(7)} req/s  p50 ${percentile(sorted, 50).toFixed(1).padStart(6)} ms  ` +
      `p99 ${percentile(sorted, 99).toFixed(1).padStart(6)} ms  ${latencies.length} answered, ${describe(errors)}  ` +
      `server RSS ${before.toFixed(0)} -> ${rssMb(served.child.pid!).toFixed(0)} MB`,
  );
}

export const serverBench = {
  name: 'server',
  async run(): Promise<void> {
    const library = join(mkdtempSync(join(tmpdir(), 'dml-bench-server-')), 'library.sqlite');
    const store = await openLibrary(library);
    // Maps and previews of 2 kB each, as in the jobs benchmark: real ones (about 85 kB a frame) would make this
    // an 8 GB file, so the media figures are for small bodies.
    const { analysisId, insertSeconds } = await writeSyntheticSession(store, { frames: FRAMES, frame: driveLikeFrame });
    await store.events.recompute(analysisId);
    await store.analyses.update(analysisId, { status: 'done' });
    await store.close();
    console.log(
      `${FRAMES} frames written in ${insertSeconds.toFixed(1)} s; ${CONCURRENCY} clients, ${SECONDS} s per kind`,
    );
    const served = await startServe(library);
    try {
      const startRss = rssMb(served.child.pid!);
      const random = (n: number) => Math.floor(Math.random() * n);
      const api = (method: string, payload: unknown): Call => ({
        method: 'POST',
        path: `/api/${method}`,
        body: JSON.stringify(payload),
      });
      await load(served, `timeline.get (${FRAMES} frames)`, () => api('timeline.get', { analysisId }));
      await load(served, 'frames.top (first page of 100)', () => api('frames.top', { analysisId, limit: 100 }));
      // The list scrolled anywhere: OFFSET makes SQLite step over every row before the page.
      await load(served, 'frames.top (a page at any offset)', () =>
        api('frames.top', { analysisId, offset: random(FRAMES - 100), limit: 100 }),
      );
      const media = [mediaPaths.frame, mediaPaths.classMap, mediaPaths.oodMap];
      await load(served, 'media (preview, class map, OOD map)', () => ({
        method: 'GET',
        path: `/media/${media[random(3)]!(analysisId, random(FRAMES))}`,
      }));
      console.log(
        `server RSS at start ${startRss.toFixed(0)} MB, at the end ${rssMb(served.child.pid!).toFixed(0)} MB`,
      );
    } finally {
      served.child.kill('SIGTERM');
    }
  },
};
