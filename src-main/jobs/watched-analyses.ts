import type { AnalysisInfo } from '../../src-shared/contract/index.js';

/** Callers waiting for analyses to end, each answered once with the analysis's last record. */
export class AnalysisWaiters {
  private readonly waiting = new Map<number, ((info: AnalysisInfo) => void)[]>();

  waitFor(analysisId: number): Promise<AnalysisInfo> {
    return new Promise((resolve) => this.waiting.set(analysisId, [...(this.waiting.get(analysisId) ?? []), resolve]));
  }

  settle(info: AnalysisInfo): void {
    const waiters = this.waiting.get(info.id) ?? [];
    this.waiting.delete(info.id);
    for (const resolve of waiters) resolve(info);
  }
}

/**
 * Analyses run elsewhere (by another process, or by the fleet's workers), read back from the library on an
 * interval: `check` gets each with what was last seen of it, and sets or deletes it. A round slower than the
 * interval (a busy database) is not overlapped by the next; the timer stops when no analysis is left.
 */
export class WatchedAnalyses<Seen> {
  private readonly seen = new Map<number, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly intervalMs: number,
    private readonly check: (analysisId: number, seen: Seen) => Promise<void>,
  ) {}

  has(analysisId: number): boolean {
    return this.seen.has(analysisId);
  }

  ids(): number[] {
    return [...this.seen.keys()];
  }

  set(analysisId: number, seen: Seen): void {
    this.seen.set(analysisId, seen);
    this.timer ??= setInterval(() => void this.checkAll(), this.intervalMs);
  }

  delete(analysisId: number): boolean {
    return this.seen.delete(analysisId);
  }

  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [analysisId, seen] of this.seen) await this.check(analysisId, seen);
    } finally {
      this.checking = false;
    }
    if (this.seen.size === 0) this.clear();
  }

  clear(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.seen.clear();
  }
}
