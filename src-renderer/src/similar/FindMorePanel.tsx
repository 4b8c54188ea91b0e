import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { SessionInfo, SimilarAnswer, SimilarResult } from '../../../src-shared/contract/index';
import { useSessionView } from '../session/context';
import { loadFrameLayers } from '../session/frame-layers';
import { formatCount, formatTime } from '../ui/format';
import { RangeField } from '../ui/RangeField';
import { hashOf } from '../ui/route';
import { useGuarded, useToast } from '../ui/toasts';
import { ResultThumb } from './ResultThumb';
import {
  FIND_MORE_PANEL,
  formatAnalyses,
  formatSimilarity,
  groupResults,
  markOpened,
  resultPixels,
  resultKey,
  runSearch,
  searchState,
  type Among,
  type SimilarSearch,
} from './search';
import { TeachFromResults } from './TeachFromResults';
import './similar.css';

type Sources = Map<number, SessionInfo>;
const NOTHING: ReadonlySet<string> = new Set();

/**
 * "Find more like this": the regions of every drive analysed with the same model nearest to the query, by
 * drive and event, with a similarity cut-off. A result opens in its drive at its frame; chosen results are
 * flagged together or become the shots of a new class.
 */
export function FindMorePanel() {
  const view = useSessionView();
  const { api } = view;
  const state = useSyncExternalStore(searchState.subscribe, searchState.get);
  const guarded = useGuarded();
  const toast = useToast();
  const [sources, setSources] = useState<Sources>(new Map());
  const [minSimilarity, setMinSimilarity] = useState(0);
  // What is chosen belongs to one search: a new search starts with nothing chosen.
  const [choice, setChoice] = useState<{ search?: SimilarSearch; keys: ReadonlySet<string> }>({ keys: new Set() });
  const chosen = choice.search === state?.search ? choice.keys : NOTHING;
  const setChosen = (update: (current: ReadonlySet<string>) => ReadonlySet<string>) =>
    setChoice({ search: state?.search, keys: update(chosen) });
  const [teaching, setTeaching] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void guarded(async () => {
      const sessions = await api.call('sessions.list', {});
      setSources(new Map(sessions.map((session) => [session.id, session])));
    });
  }, [api, guarded, state?.answer]);

  // The opened result's region, marked on the frame viewer while its frame is on screen.
  const opened = state?.opened;
  const { marks, analysis, frameIndex } = view;
  useEffect(() => {
    const source = opened && sources.get(opened.sessionId);
    if (!opened || !source || opened.analysisId !== analysis.id || opened.frameIndex !== frameIndex) return;
    let alive = true;
    void loadFrameLayers(api, opened.analysisId, opened.frameIndex).then(
      (layers) => {
        if (!alive) return;
        const pixels = resultPixels(opened, source, layers);
        marks.set({ frameIndex: opened.frameIndex, mapWidth: layers.mapWidth, mapHeight: layers.mapHeight, pixels });
      },
      // The viewer shows why the frame could not be loaded; the mark is merely left off.
      () => undefined,
    );
    return () => {
      alive = false;
      marks.set(undefined);
    };
  }, [api, marks, opened, sources, analysis.id, frameIndex]);

  const shown = useMemo(
    () => state?.answer?.results.filter((result) => result.similarity >= minSimilarity) ?? [],
    [state?.answer, minSimilarity],
  );
  const picked = shown.filter((result) => chosen.has(resultKey(result)));

  if (!state)
    return (
      <div className="empty muted" data-testid="find-more-empty">
        <p>Nothing searched yet.</p>
        <p>
          Click an outlined region in the frame and choose <strong>Find more like this</strong>, or use the button under
          a lasso (Metric space) or a teaching mask (Teach).
        </p>
      </div>
    );

  const toggle = (result: SimilarResult) =>
    setChosen((current) => {
      const next = new Set(current);
      const key = resultKey(result);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  const flagChosen = () =>
    void guarded(async () => {
      setBusy(true);
      try {
        for (const result of picked)
          await api.call('flags.add', {
            analysisId: result.analysisId,
            frameIndex: result.frameIndex,
            category: 'unknown-object',
            note: `Like ${state.search.origin} (similarity ${formatSimilarity(result.similarity)})`,
          });
        toast('info', `Flagged ${formatCount(picked.length, 'frame')} as unknown object`);
        setChosen(() => NOTHING);
        view.refresh();
      } finally {
        setBusy(false);
      }
    });

  return (
    <div className="find-more" data-testid="find-more" data-status={state.status}>
      <QueryHeader state={state} sources={sources} onAmong={(among) => void runSearch(api, state.search, among)} />
      {state.status === 'searching' && <div className="empty muted">Searching every drive…</div>}
      {state.status === 'failed' && (
        <div className="find-more-error error" data-testid="find-more-error">
          {state.error}
        </div>
      )}
      {state.answer && (
        <>
          <Skipped answer={state.answer} onReanalysed={view.refresh} />
          <div className="find-more-controls">
            <RangeField
              label="similarity ≥"
              title="Hide results less similar than this (the distance it stands for in brackets)"
              min={0}
              max={1}
              step={0.01}
              value={minSimilarity}
              display={`${formatSimilarity(minSimilarity)} (distance ≤ ${cutoffDistance(minSimilarity, state.answer.similarityScale)})`}
              onChange={setMinSimilarity}
              testId="find-more-cutoff"
            />
            <div className="teach-row">
              <span className="muted" data-testid="find-more-count">
                {formatCount(shown.length, 'result')} of {state.answer.results.length}
              </span>
              <span className="spacer" />
              <button
                onClick={() =>
                  setChosen(() => (picked.length === shown.length ? NOTHING : new Set(shown.map(resultKey))))
                }
                disabled={shown.length === 0}
              >
                {picked.length === shown.length && shown.length > 0 ? 'Choose none' : 'Choose all'}
              </button>
              <button onClick={flagChosen} disabled={picked.length === 0 || busy} data-testid="find-more-flag">
                ⚑ Flag {picked.length || ''}
              </button>
              <button
                onClick={() => setTeaching(true)}
                disabled={picked.length === 0 || picked.length > 5}
                title="Teach a new class from the chosen results (1 to 5): each region's pixels are its mask"
                data-testid="find-more-teach"
              >
                Use as shots
              </button>
            </div>
          </div>
          {teaching && (
            <TeachFromResults
              results={picked}
              model={state.answer.query.modelName}
              sources={sources}
              onDone={() => {
                setTeaching(false);
                view.refresh();
              }}
            />
          )}
          <ResultList
            results={shown}
            sources={sources}
            chosen={chosen}
            opened={opened && resultKey(opened)}
            onToggle={toggle}
          />
        </>
      )}
    </div>
  );
}

/** The squared distance a similarity stands for (similarity = 2^(-distance / scale)). */
function cutoffDistance(similarity: number, scale: number): string {
  return similarity <= 0 ? '∞' : (-scale * Math.log2(similarity)).toFixed(2);
}

function QueryHeader({
  state,
  sources,
  onAmong,
}: {
  state: NonNullable<ReturnType<typeof searchState.get>>;
  sources: Sources;
  onAmong: (among: Among) => void;
}) {
  const { search, answer } = state;
  const source = sources.get(search.sessionId);
  return (
    <div className="find-more-query" data-testid="find-more-query">
      {answer && (
        <ResultThumb
          analysisId={answer.query.analysisId}
          frameIndex={answer.query.frameIndex}
          box={answer.query.box}
          source={source}
        />
      )}
      <div className="find-more-query-text">
        <strong>Like {search.origin}</strong>
        <span className="muted">
          {source?.name ?? `session ${search.sessionId}`} · frame {search.frameIndex}
        </span>
        {answer && (
          <span className="muted" data-testid="find-more-searched">
            {formatCount(answer.searched.regions, 'region')} in {formatAnalyses(answer.searched.analyses)} searched
          </span>
        )}
        <label className="find-more-among">
          <input
            type="checkbox"
            checked={state.among === 'all'}
            onChange={(event) => onAmong(event.target.checked ? 'all' : 'unknown')}
            disabled={state.status === 'searching'}
            data-testid="find-more-among"
          />
          known-class objects too
        </label>
      </div>
    </div>
  );
}

/** Analyses the search could not look in, each with what to do about it. */
function Skipped({ answer, onReanalysed }: { answer: SimilarAnswer; onReanalysed: () => void }) {
  const { api } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  if (answer.skipped.length === 0) return null;
  return (
    <details className="find-more-skipped" data-testid="find-more-skipped" open={answer.results.length === 0}>
      <summary className="warn-text">Not searched: {formatAnalyses(answer.skipped.length)}</summary>
      <ul>
        {answer.skipped.map((skipped) => (
          <li key={skipped.analysisId} data-testid="skipped-analysis" data-reason={skipped.reason}>
            <span>
              <strong>{skipped.sessionName}</strong> #{skipped.analysisId} {skipped.modelName}: {skipped.message}
            </span>
            {skipped.reason === 'no-descriptors' && (
              <button
                onClick={() =>
                  void guarded(async () => {
                    await api.call('analysis.start', { sessionId: skipped.sessionId, model: skipped.modelName });
                    toast('info', `Re-analysing ${skipped.sessionName} with ${skipped.modelName}`);
                    onReanalysed();
                  })
                }
                data-testid="skipped-reanalyse"
              >
                Re-analyse
              </button>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}

function ResultList({
  results,
  sources,
  chosen,
  opened,
  onToggle,
}: {
  results: readonly SimilarResult[];
  sources: Sources;
  chosen: ReadonlySet<string>;
  /** Key of the result last opened. */
  opened: string | undefined;
  onToggle: (result: SimilarResult) => void;
}) {
  const groups = useMemo(() => groupResults(results), [results]);
  if (results.length === 0) return <div className="empty muted">No result at this similarity: lower the cut-off.</div>;
  return (
    <div className="find-more-results" data-testid="find-more-results">
      {groups.map((drive) => (
        <section key={drive.sessionId} className="result-drive" data-testid="result-drive">
          <h4>
            {drive.sessionName}{' '}
            <span className="muted">
              {formatCount(
                drive.events.reduce((sum, event) => sum + event.results.length, 0),
                'result',
              )}
            </span>
          </h4>
          {drive.events.map((event) => (
            <div key={event.eventId ?? 'none'} className="result-event">
              <div className="result-event-head muted">
                {event.eventId === null ? 'in no event' : `event #${event.eventId}`}
              </div>
              {event.results.map((result) => (
                <ResultRow
                  key={resultKey(result)}
                  result={result}
                  source={sources.get(result.sessionId)}
                  chosen={chosen.has(resultKey(result))}
                  opened={opened === resultKey(result)}
                  onToggle={() => onToggle(result)}
                />
              ))}
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}

function ResultRow({
  result,
  source,
  chosen,
  opened,
  onToggle,
}: {
  result: SimilarResult;
  source: SessionInfo | undefined;
  chosen: boolean;
  opened: boolean;
  onToggle: () => void;
}) {
  const { classes } = useSessionView();
  const what =
    result.kind === 'unknown'
      ? 'unknown region'
      : (classes.find((info) => info.index === result.classIndex)?.name ?? `class ${result.classIndex}`);
  const open = () => {
    markOpened(result);
    window.location.hash = hashOf({
      screen: 'session',
      sessionId: result.sessionId,
      at: { analysisId: result.analysisId, frameIndex: result.frameIndex },
      panel: FIND_MORE_PANEL,
    });
  };
  return (
    <div
      className={`result-row${chosen ? ' chosen' : ''}${opened ? ' opened' : ''}`}
      data-testid="result-row"
      data-session-id={result.sessionId}
      data-analysis-id={result.analysisId}
      data-frame-index={result.frameIndex}
      data-similarity={result.similarity}
    >
      <input type="checkbox" checked={chosen} onChange={onToggle} title="Choose" data-testid="result-choose" />
      <button className="result-open" onClick={open} title="Open in its drive at this frame" data-testid="result-open">
        <ResultThumb analysisId={result.analysisId} frameIndex={result.frameIndex} box={result.box} source={source} />
        <span className="result-text">
          <strong className="result-similarity">{formatSimilarity(result.similarity)}</strong>
          <span className="muted">distance {result.distance.toFixed(2)}</span>
          <span>
            {formatTime(result.timeMs)} · frame {result.frameIndex}
          </span>
          <span className="muted">{what}</span>
        </span>
      </button>
    </div>
  );
}
