import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { FrameSummary } from '../../../src-shared/contract/index';
import { formatCount, formatPercent, formatScore, formatTime } from '../ui/format';
import { useGuarded } from '../ui/toasts';
import { VirtualList } from '../ui/VirtualList';
import { useSessionView } from './context';
import { ClipButton } from './ClipButton';
import { Thumb } from './Thumb';
import { RangeField } from '../ui/RangeField';

const ROW_HEIGHT = 56;
const PAGE_SIZE = 100;

/** Events and frames ranked by score, with filters; clicking a row seeks there. */
export function AnomalyBrowser() {
  const [mode, setMode] = useState<'events' | 'frames'>('events');
  return (
    <div className="browser" data-testid="anomaly-browser">
      <div className="segmented">
        <button className={mode === 'events' ? 'on' : ''} onClick={() => setMode('events')} data-testid="browse-events">
          Events
        </button>
        <button className={mode === 'frames' ? 'on' : ''} onClick={() => setMode('frames')} data-testid="browse-frames">
          Top frames
        </button>
      </div>
      {mode === 'events' ? <EventList /> : <FrameList />}
    </div>
  );
}

function EventList() {
  const { analysis, events, flags, seek, requestFlag, frameIndex } = useSessionView();
  const [minScore, setMinScore] = useState(0);
  const [minSeconds, setMinSeconds] = useState(0);
  const flaggedEvents = useMemo(() => new Set(flags.map((flag) => flag.eventId)), [flags]);
  const ranked = useMemo(
    () =>
      events
        .filter((event) => event.peakScore >= minScore && event.endMs - event.startMs >= minSeconds * 1000)
        .sort((a, b) => b.peakScore - a.peakScore),
    [events, minScore, minSeconds],
  );
  return (
    <>
      <div className="filters">
        <label>
          min peak{' '}
          <input
            type="range"
            min={0}
            max={1}
            step={0.01}
            value={minScore}
            onChange={(e) => setMinScore(Number(e.target.value))}
          />
          <span className="num">{minScore.toFixed(2)}</span>
        </label>
        <label>
          min length
          <input
            className="narrow"
            type="number"
            min={0}
            step={0.5}
            value={minSeconds}
            onChange={(e) => setMinSeconds(Number(e.target.value) || 0)}
          />
          s
        </label>
        <span className="muted count">{formatCount(ranked.length, 'event')}</span>
      </div>
      {ranked.length === 0 ? (
        <div className="empty muted">
          No event above the threshold{minScore || minSeconds ? ' with these filters' : ''}.
        </div>
      ) : (
        <VirtualList
          count={ranked.length}
          rowHeight={ROW_HEIGHT}
          testId="event-list"
          renderRow={(index) => {
            const event = ranked[index]!;
            const current = frameIndex === event.peakFrame;
            return (
              <div
                className={`row${current ? ' current' : ''}`}
                onClick={() => seek(event.peakFrame)}
                data-testid="event-row"
              >
                <Thumb analysisId={analysis.id} frameIndex={event.peakFrame} />
                <div className="row-main">
                  <div>
                    <span className="rank">#{index + 1}</span> {formatTime(event.startMs)} – {formatTime(event.endMs)}
                    <span className="muted">
                      {' '}
                      · {((event.endMs - event.startMs) / 1000).toFixed(1)} s · {formatCount(event.frameCount, 'frame')}
                    </span>
                  </div>
                  <ScoreBar score={event.peakScore} />
                </div>
                <button
                  className={`icon flag${flaggedEvents.has(event.id) ? ' flagged' : ''}`}
                  title="Flag this event"
                  onClick={(click) => {
                    click.stopPropagation();
                    requestFlag({ eventId: event.id });
                  }}
                >
                  ⚑
                </button>
                <ClipButton target={{ eventId: event.id }} />
              </div>
            );
          }}
        />
      )}
    </>
  );
}

interface FrameFilters {
  minScore: number;
  classIndex: number | undefined;
  flaggedOnly: boolean;
}

function FrameList() {
  const { api, analysis, classes, seek, frameIndex, flags } = useSessionView();
  const guarded = useGuarded();
  const [filters, setFilters] = useState<FrameFilters>({ minScore: 0, classIndex: undefined, flaggedOnly: false });
  const [total, setTotal] = useState<number>();
  const [, setVersion] = useState(0);
  const pages = useRef(new Map<number, FrameSummary[]>());
  const pending = useRef(new Set<number>());
  const generation = useRef(0);

  const fetchPage = useCallback(
    (page: number) => {
      if (pages.current.has(page) || pending.current.has(page)) return;
      pending.current.add(page);
      const asked = generation.current;
      void guarded(async () => {
        const result = await api.call('frames.top', {
          analysisId: analysis.id,
          offset: page * PAGE_SIZE,
          limit: PAGE_SIZE,
          minScore: filters.minScore || undefined,
          classIndex: filters.classIndex,
          flaggedOnly: filters.flaggedOnly || undefined,
        });
        if (asked !== generation.current) return;
        pages.current.set(page, result.frames);
        setTotal(result.total);
        setVersion((version) => version + 1);
      }).finally(() => pending.current.delete(page));
    },
    [api, analysis.id, filters, guarded],
  );

  // New filters, new flags or more analysed frames: start over from the first page.
  useEffect(() => {
    generation.current += 1;
    pages.current = new Map();
    pending.current = new Set();
    fetchPage(0);
  }, [fetchPage, flags, analysis.framesDone]);

  const onRange = useCallback(
    (first: number, last: number) => {
      for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(Math.max(first, last - 1) / PAGE_SIZE); page++)
        fetchPage(page);
    },
    [fetchPage],
  );

  return (
    <>
      <div className="filters">
        <RangeField
          label="min score"
          min={0}
          max={1}
          step={0.01}
          value={filters.minScore}
          display={filters.minScore.toFixed(2)}
          onChange={(minScore) => setFilters({ ...filters, minScore })}
        />
        <label>
          class
          <select
            value={filters.classIndex ?? ''}
            onChange={(e) =>
              setFilters({ ...filters, classIndex: e.target.value === '' ? undefined : Number(e.target.value) })
            }
            data-testid="filter-class"
          >
            <option value="">any</option>
            {classes.map((info) => (
              <option key={info.index} value={info.index}>
                {info.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={filters.flaggedOnly}
            onChange={(e) => setFilters({ ...filters, flaggedOnly: e.target.checked })}
          />{' '}
          flagged
        </label>
        <span className="muted count" data-testid="frame-count">
          {total === undefined ? '…' : formatCount(total, 'frame')}
        </span>
      </div>
      <VirtualList
        count={total ?? 0}
        rowHeight={ROW_HEIGHT}
        testId="frame-list"
        onRange={onRange}
        renderRow={(index) => {
          const frame = pages.current.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
          if (!frame) return <div className="row placeholder">#{index + 1}</div>;
          return (
            <div
              className={`row${frame.index === frameIndex ? ' current' : ''}`}
              onClick={() => seek(frame.index)}
              data-testid="frame-row"
            >
              <Thumb analysisId={analysis.id} frameIndex={frame.index} />
              <div className="row-main">
                <div>
                  <span className="rank">#{index + 1}</span> frame {frame.index} · {formatTime(frame.timeMs)}
                  {frame.flagged && <span className="flag-mark"> ⚑</span>}
                  <span className="muted"> · unknown {formatPercent(frame.unknownFraction)}</span>
                </div>
                <ScoreBar score={frame.score} />
              </div>
            </div>
          );
        }}
      />
    </>
  );
}

export function ScoreBar({ score }: { score: number }) {
  return (
    <div className="scorebar" title={`score ${formatScore(score)}`}>
      <div className="scorebar-fill" style={{ width: `${Math.max(0, Math.min(1, score)) * 100}%` }} />
      <span>{formatScore(score)}</span>
    </div>
  );
}
