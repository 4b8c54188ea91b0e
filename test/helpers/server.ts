// A `dmlreview serve` child process and the raw ways the tests talk to it: JSON API calls, raw HTTP and raw
// WebSocket frames on 127.0.0.1, and its resident memory.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startServeProcess } from './cli.js';

export interface ServeUnderTest {
  origin: string;
  port: number;
  token: string;
  pid: number;
  /** Whether the process is still running: a test that took it down fails here. */
  alive(): boolean;
  stop(): Promise<void>;
}

export async function serve(args: string[]): Promise<ServeUnderTest> {
  const started = await startServeProcess(args);
  const url = new URL(started.url);
  let exited = false;
  started.child.once('exit', () => (exited = true));
  return {
    origin: url.origin,
    port: Number(url.port),
    token: url.searchParams.get('token') ?? '',
    pid: started.child.pid!,
    alive: () => !exited,
    stop: () => started.stop(),
  };
}

/** POST /api/<method> with the token; the status and the parsed body (undefined when it is not JSON). */
export async function api(
  server: ServeUnderTest,
  method: string,
  payload: unknown,
  timeoutMs = 120_000,
): Promise<{ status: number; body: { code?: string; message?: string } & Record<string, unknown> }> {
  const response = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { unparsed: text };
  }
  return { status: response.status, body };
}

/** The process's resident memory in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** One raw HTTP request (any path, any headers, any body size), resolving with the status or the error code. */
export function rawRequest(
  server: ServeUnderTest,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | (() => AsyncIterable<Buffer>);
  },
): Promise<{ status: number | undefined; headers: Record<string, unknown>; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: `127.0.0.1:${server.port}`, ...options.headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: undefined, headers: {}, error: error.code }));
    const body = options.body;
    if (typeof body === 'function') {
      void (async () => {
        for await (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    } else req.end(body);
  });
}

const UPGRADE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/**
 * Opens /api/notifications by hand and, once upgraded, sends `frame` as raw bytes. Resolves with the handshake's
 * status line and how the server ended the connection (its close frame's code, when it sent one).
 */
export function rawWebSocket(
  server: ServeUnderTest,
  frame: Buffer,
  options: { token?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: string; closeCode?: number; ended: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(server.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let upgraded = false;
    let status = '';
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, closeCode: closeCodeIn(received), ended });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 3000);
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (upgraded) return;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      status = received.subarray(0, received.indexOf('\r\n')).toString();
      received = received.subarray(end + 4);
      if (!status.includes(' 101 ')) return;
      upgraded = true;
      socket.write(frame);
    });
    const headers = {
      host: `127.0.0.1:${server.port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': UPGRADE_KEY,
      'sec-websocket-version': '13',
      ...options.headers,
    };
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    const token = options.token ?? server.token;
    socket.write(`GET /api/notifications?token=${token} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** The status code of the first close frame (opcode 8) among the bytes the server sent, if any. */
function closeCodeIn(bytes: Buffer): number | undefined {
  for (let offset = 0; offset + 2 <= bytes.length;) {
    const opcode = bytes[offset]! & 0x0f;
    let length = bytes[offset + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(offset + 2);
      header = 4;
    } else if (length === 127) return undefined;
    if (opcode === 8 && length >= 2) return bytes.readUInt16BE(offset + header);
    offset += header + length;
  }
  return undefined;
}

/** A WebSocket frame as a client must send it (masked), or deliberately not. */
export function wsFrame(options: {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  masked?: boolean;
  rsv?: number;
  /** The length to declare, when it should differ from the payload's. */
  declaredLength?: number;
}): Buffer {
  const { payload } = options;
  const length = options.declaredLength ?? payload.length;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | options.opcode;
  const masked = options.masked ?? true;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, (masked ? 0x80 : 0) | length]);
  else if (length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(length, 2);
    header[1] = (masked ? 0x80 : 0) | 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(BigInt(length), 2);
    header[1] = (masked ? 0x80 : 0) | 127;
  }
  header[0] = first;
  if (!masked) return Buffer.concat([header, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([header, key, body]);
}
