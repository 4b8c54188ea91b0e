/**
 * The pipe ffmpeg writes raw frames into, read into one reused buffer. Node reads a child's stdout into a new
 * 64 kB buffer for every read: at 518 kB a frame that is about 1 ms of CPU a frame in allocation, page faults
 * and garbage collection, on the cores the model needs (docs/benchmarks.md, session 15). A FIFO opened here and
 * read through net.Socket's `onread` fills the same buffer again instead. Where there are no FIFOs (Windows),
 * or one cannot be made, ffmpeg writes to a stdout pipe as before.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Where ffmpeg's frames go (a spawn stdio entry) and how they are read back. */
export interface FramePipe {
  /** ffmpeg's stdout: the FIFO's write end (closed here once ffmpeg has it), or 'pipe'. */
  readonly stdout: number | 'pipe';
  /**
   * Starts reading once ffmpeg is spawned: `take` gets each chunk (a view valid only during the call) and returns
   * false to pause; the returned `resume` reads on, `close` ends it (once the writer has gone, or at once).
   */
  read(
    childStdout: Readable | null,
    take: (chunk: Uint8Array) => boolean,
    ended: () => void,
  ): { resume(): void; close(): void };
}

/** ffmpeg's pipes hold 64 kB; a read never returns more. */
const READ_BUFFER_BYTES = 64 * 1024;

export function openFramePipe(): FramePipe {
  return (process.platform === 'win32' ? undefined : fifoPipe()) ?? stdoutPipe;
}

const stdoutPipe: FramePipe = {
  stdout: 'pipe',
  read(childStdout, take, ended) {
    const stream = childStdout!;
    stream.on('data', (chunk: Buffer) => {
      if (!take(chunk)) stream.pause();
    });
    stream.on('close', ended);
    return { resume: () => stream.resume(), close: () => stream.destroy() };
  },
};

/** A FIFO in a folder of its own, opened at both ends and unlinked at once; undefined where mkfifo fails. */
function fifoPipe(): FramePipe | undefined {
  const folder = mkdtempSync(join(tmpdir(), 'dmlreview-frames-'));
  let readFd: number | undefined;
  let writeFd: number | undefined;
  try {
    const path = join(folder, 'frames');
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
    // The read end first and non-blocking, so that opening the write end does not wait for a reader.
    readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    writeFd = openSync(path, constants.O_WRONLY);
  } catch {
    for (const fd of [readFd, writeFd]) if (fd !== undefined) closeSync(fd);
    return undefined;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const [reader, writer] = [readFd, writeFd];
  return {
    stdout: writer,
    read(_childStdout, take, ended) {
      // ffmpeg holds its own copy of the write end now: the FIFO ends when ffmpeg exits.
      closeSync(writer);
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      // Node 20 takes onread in the constructor (documented there since Node 22); its types name it for connect only.
      const options: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd: reader,
        readable: true,
        writable: false,
        onread: { buffer, callback: (bytes, filled) => take(filled.subarray(0, bytes)) },
      };
      const socket = new Socket(options);
      socket.on('close', ended);
      socket.on('error', () => undefined); // the end comes as 'close'; ffmpeg's exit status says why
      return { resume: () => socket.resume(), close: () => socket.destroy() };
    },
  };
}
