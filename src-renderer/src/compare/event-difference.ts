// What changed between two analyses of one drive, event by event. Imports carry .js so this module also
// typechecks under NodeNext (its unit test runs it in Node).
import type { EventInfo } from '../../../src-shared/contract/index.js';

export type DifferenceKind = 'both' | 'only-a' | 'only-b';

/**
 * Events of A and B that overlap in time, chained: an A event overlapping two B events, and anything those
 * overlap, are one stretch of the drive. A stretch with events of both sides is found by both analyses.
 */
export interface EventStretch {
  kind: DifferenceKind;
  startMs: number;
  endMs: number;
  a: EventInfo[];
  b: EventInfo[];
}

export interface EventDifference {
  stretches: EventStretch[];
  counts: Record<DifferenceKind, number>;
}

/**
 * The events of A and B by stretch of the drive, in time order. One sweep over both lists sorted by start:
 * an event joins the open stretch when it starts at or before that stretch's end (spans include both ends), which chains overlaps (events of
 * one analysis never overlap each other, so a stretch only grows through the other side's events).
 */
export function eventDifference(eventsA: readonly EventInfo[], eventsB: readonly EventInfo[]): EventDifference {
  const tagged = [
    ...eventsA.map((event) => ({ event, side: 'a' as const })),
    ...eventsB.map((event) => ({ event, side: 'b' as const })),
  ].sort((x, y) => x.event.startMs - y.event.startMs || x.event.endMs - y.event.endMs);
  const stretches: EventStretch[] = [];
  let open: EventStretch | undefined;
  for (const { event, side } of tagged) {
    if (!open || event.startMs > open.endMs) {
      open = { kind: 'both', startMs: event.startMs, endMs: event.endMs, a: [], b: [] };
      stretches.push(open);
    }
    open.endMs = Math.max(open.endMs, event.endMs);
    open[side].push(event);
  }
  const counts: Record<DifferenceKind, number> = { both: 0, 'only-a': 0, 'only-b': 0 };
  for (const stretch of stretches) {
    stretch.kind = stretch.a.length === 0 ? 'only-b' : stretch.b.length === 0 ? 'only-a' : 'both';
    counts[stretch.kind] += 1;
  }
  return { stretches, counts };
}
