/**
 * A FIFO between two pipeline stages. push waits while the queue is full, so a fast producer (ffmpeg) can never
 * run ahead of a slow consumer (the engine) by more than `capacity` items: memory stays flat on any length.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: Error | undefined;
  private readonly waitingForSpace: (() => void)[] = [];
  private waitingForItem: (() => void) | undefined;

  constructor(private readonly capacity: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed)
      await new Promise<void>((resolve) => this.waitingForSpace.push(resolve));
    if (this.closed) return;
    this.items.push(item);
    this.wakeConsumer();
  }

  /** The next item, or undefined once the queue is closed and drained; rethrows a producer's failure. */
  async pull(): Promise<T | undefined> {
    while (this.items.length === 0 && !this.closed)
      await new Promise<void>((resolve) => (this.waitingForItem = resolve));
    if (this.failure !== undefined) throw this.failure;
    const item = this.items.shift();
    this.waitingForSpace.shift()?.();
    return item;
  }

  /** No more items will come (after the ones already queued). */
  close(): void {
    this.closed = true;
    this.wakeConsumer();
    for (const wake of this.waitingForSpace.splice(0)) wake();
  }

  /** Ends the queue with an error its consumer rethrows. */
  fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(`pipeline stage failed: ${String(error)}`);
    this.close();
  }

  private wakeConsumer(): void {
    const wake = this.waitingForItem;
    this.waitingForItem = undefined;
    wake?.();
  }
}
