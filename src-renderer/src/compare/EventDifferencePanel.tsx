import type { EventInfo } from '../../../src-shared/contract/index';
import { formatCount, formatScore, formatTime } from '../ui/format';
import type { DifferenceKind, EventDifference, EventStretch } from './event-difference';

const KIND_LABEL: Record<DifferenceKind, string> = { both: 'both', 'only-a': 'only A', 'only-b': 'only B' };

/**
 * The events of both analyses by stretch of the drive: found by both, only by A, only by B, with a summary on
 * top. A row moves the playhead to the start of its stretch.
 */
export function EventDifferencePanel({
  difference,
  eventCounts,
  timeMs,
  onSeek,
}: {
  /** Undefined until the events of both sides are in. */
  difference: EventDifference | undefined;
  eventCounts: { a: number; b: number };
  timeMs: number;
  onSeek: (timeMs: number) => void;
}) {
  if (!difference) return <div className="empty muted">Loading the events of both…</div>;
  const { counts, stretches } = difference;
  return (
    <div className="difference" data-testid="event-difference">
      <div className="difference-summary" data-testid="difference-summary">
        <p>
          <strong>A</strong> has {formatCount(eventCounts.a, 'event')}, <strong>B</strong>{' '}
          {formatCount(eventCounts.b, 'event')}.
        </p>
        <p className="difference-counts">
          <span className="kind kind-both">{counts.both} in both</span>
          <span className="kind kind-only-a">{counts['only-a']} only in A</span>
          <span className="kind kind-only-b">{counts['only-b']} only in B</span>
        </p>
        <p className="muted">Events of A and B that overlap in time count as one, found by both.</p>
      </div>
      {stretches.length === 0 ? (
        <div className="empty muted">Neither analysis has an event at its threshold.</div>
      ) : (
        <ol className="difference-list">
          {stretches.map((stretch) => (
            <StretchRow
              key={`${stretch.startMs}:${stretch.kind}`}
              stretch={stretch}
              current={timeMs >= stretch.startMs && timeMs <= stretch.endMs}
              onSeek={onSeek}
            />
          ))}
        </ol>
      )}
    </div>
  );
}

function StretchRow({
  stretch,
  current,
  onSeek,
}: {
  stretch: EventStretch;
  current: boolean;
  onSeek: (timeMs: number) => void;
}) {
  return (
    <li
      className={`row difference-row${current ? ' current' : ''}`}
      onClick={() => onSeek(stretch.startMs)}
      data-testid="difference-row"
      data-kind={stretch.kind}
      data-start-ms={stretch.startMs}
      data-end-ms={stretch.endMs}
      title="Show the start of this stretch in both"
    >
      <span className={`kind kind-${stretch.kind}`}>{KIND_LABEL[stretch.kind]}</span>
      <span className="row-main">
        <span>
          {formatTime(stretch.startMs)}{' '}
          <span className="muted">
            {stretch.endMs > stretch.startMs
              ? `for ${((stretch.endMs - stretch.startMs) / 1000).toFixed(2)} s`
              : 'one frame'}
          </span>
        </span>
        <span className="muted">
          A: {peakOf(stretch.a)} · B: {peakOf(stretch.b)}
        </span>
      </span>
    </li>
  );
}

/** The highest peak score of a side's events in a stretch, or that it has none there. */
function peakOf(events: readonly EventInfo[]): string {
  return events.length === 0 ? 'no event' : `peak ${formatScore(Math.max(...events.map((event) => event.peakScore)))}`;
}
