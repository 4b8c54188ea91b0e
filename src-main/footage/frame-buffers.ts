/**
 * Buffers that decoded frames are read into, kept for reuse. An analysis hands each frame's buffer to the
 * engine and gets it back with the result (AnalyzeOptions.lendFrame); giving it back here means the next frame
 * is read into memory already touched, instead of a fresh allocation (zero-filled, page-faulted in, and left
 * to the garbage collector) for every frame. Figures: docs/benchmarks.md, "Analysis jobs".
 */
export class FrameBuffers {
  private readonly free: Uint8Array[] = [];

  /** A buffer of exactly `bytes` bytes: a returned one if there is one, else a new one. */
  take(bytes: number): Uint8Array {
    const index = this.free.findIndex((buffer) => buffer.length === bytes);
    return index >= 0 ? this.free.splice(index, 1)[0]! : new Uint8Array(bytes);
  }

  /** Returns a buffer for reuse; the caller must not touch it afterwards. */
  give(buffer: Uint8Array): void {
    // A view into a larger buffer, or one detached by a transfer, cannot be read into again.
    if (buffer.byteOffset !== 0 || buffer.byteLength !== buffer.buffer.byteLength || buffer.length === 0) return;
    if (this.free.length < MAX_FREE) this.free.push(buffer);
  }
}

/** More than the frames an analysis holds at once (decoder, queues, frames in flight), so none is dropped. */
const MAX_FREE = 32;
