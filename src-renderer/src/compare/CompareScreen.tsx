import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AnalysisInfo, Flag, SessionInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { DEFAULT_OVERLAYS, OverlayControls } from '../session/OverlayControls';
import { PlaybackControls, PlayheadTime } from '../session/PlaybackControls';
import { nearestFrame } from '../session/timeline-draw';
import { usePlayback } from '../session/usePlayback';
import { useSessionKeys } from '../session/useSessionKeys';
import { useGuarded } from '../ui/toasts';
import { CompareSide } from './CompareSide';
import { eventDifference } from './event-difference';
import { EventDifferencePanel } from './EventDifferencePanel';
import { useComparedAnalysis } from './useComparedAnalysis';
import './compare.css';

/** Analyses with frames to show: finished, stopped part-way, or still running. */
const hasFrames = (analysis: AnalysisInfo) => analysis.framesDone > 0;

/**
 * Two analyses of one drive side by side (before and after teaching, two models, two thresholds): both frame
 * views and both timelines on one playhead, which scrubbing either timeline or playing moves, and the events
 * each found, compared by time overlap. A and B come from the route; missing ones default to the two newest.
 */
export function CompareScreen({
  sessionId,
  a,
  b,
  onChoose,
  onTitle,
}: {
  sessionId: number;
  a?: number;
  b?: number;
  onChoose: (a: number, b: number) => void;
  onTitle: (title: string | undefined) => void;
}) {
  const api = useApi();
  const guarded = useGuarded();
  const [session, setSession] = useState<SessionInfo>();
  const [analyses, setAnalyses] = useState<AnalysisInfo[]>();
  const [flags, setFlags] = useState<Flag[]>([]);
  useEffect(() => {
    void guarded(async () => {
      const [info, list, flagList] = await Promise.all([
        api.call('sessions.get', { sessionId }),
        api.call('analysis.list', { sessionId }),
        api.call('flags.list', { sessionId }),
      ]);
      setSession(info);
      setAnalyses(list.filter(hasFrames).sort((x, y) => x.id - y.id));
      setFlags(flagList);
      onTitle(info.name);
    });
    return () => onTitle(undefined);
  }, [api, guarded, sessionId, onTitle]);

  const newest = analyses?.at(-1)?.id;
  const idB = b ?? newest;
  const idA = a ?? analyses?.filter((analysis) => analysis.id !== idB).at(-1)?.id;
  const analysisA = analyses?.find((analysis) => analysis.id === idA);
  const analysisB = analyses?.find((analysis) => analysis.id === idB);
  const sideA = useComparedAnalysis(analysisA?.id);
  const sideB = useComparedAnalysis(analysisB?.id);

  // One clock for both: every analysed time of either, so stepping visits each side's every frame.
  const clockTimes = useMemo(
    () => mergeTimes(sideA.timeline?.timesMs ?? [], sideB.timeline?.timesMs ?? []),
    [sideA.timeline, sideB.timeline],
  );
  // The playhead is a drive time, so it stays put when either side changes to an analysis sampled otherwise.
  const [timeMs, setTimeMs] = useState(0);
  const clockIndex = nearestFrame(clockTimes, timeMs);
  const seek = useCallback(
    (index: number) => setTimeMs(clockTimes[Math.max(0, Math.min(index, clockTimes.length - 1))] ?? 0),
    [clockTimes],
  );
  const playback = usePlayback(clockTimes, clockIndex, seek);
  const { pause } = playback;
  const seekTime = useCallback(
    (ms: number) => {
      pause();
      setTimeMs(clockTimes[nearestFrame(clockTimes, ms)] ?? 0);
    },
    [pause, clockTimes],
  );
  const [overlays, setOverlays] = useState(DEFAULT_OVERLAYS);

  const eventsA = sideA.eventState?.events;
  const eventsB = sideB.eventState?.events;
  const difference = useMemo(
    () => (eventsA && eventsB ? eventDifference(eventsA, eventsB) : undefined),
    [eventsA, eventsB],
  );
  // N / P go from stretch to stretch of the difference list.
  const jumpToStretch = (direction: 1 | -1) => {
    const starts = difference?.stretches.map((stretch) => stretch.startMs) ?? [];
    const target =
      direction > 0 ? starts.find((start) => start > timeMs) : starts.filter((start) => start < timeMs).at(-1);
    if (target !== undefined) seekTime(target);
  };
  useSessionKeys(analysisA !== undefined && analysisB !== undefined, {
    togglePlay: playback.toggle,
    shuttle: (direction) => (direction === 0 ? pause() : playback.shuttle(direction)),
    step: (delta) => {
      pause();
      seek(clockIndex + delta);
    },
    stepSeconds: (seconds) => seekTime(timeMs + seconds * 1000),
    home: () => seekTime(clockTimes[0] ?? 0),
    end: () => seekTime(clockTimes.at(-1) ?? 0),
    nextEvent: () => jumpToStretch(1),
    previousEvent: () => jumpToStretch(-1),
    // A flag belongs to one analysis: flagging is done on the session screen, where one is on screen.
    flag: () => undefined,
    help: () => undefined,
    toggle: (layer) => setOverlays((current) => ({ ...current, [layer]: !current[layer] })),
    opacity: (delta) =>
      setOverlays((current) => ({ ...current, opacity: Math.max(0.05, Math.min(1, current.opacity + delta)) })),
  });

  if (!session || !analyses) return <div className="empty muted">Loading session…</div>;
  if (!analysisA || !analysisB) {
    return (
      <div className="empty" data-testid="compare-screen" data-state="too-few">
        <p>
          Compare needs two analyses of this drive; it has{' '}
          {analyses.length === 0 ? 'none with analysed frames' : 'one with analysed frames'}.
        </p>
        <p className="muted">
          Re-analyse it with another model from the library, or after teaching a class (Teach panel), then compare.
        </p>
        <p>
          <a href={`#/session/${sessionId}`}>Back to the session</a>
        </p>
      </div>
    );
  }
  const flagTimesOf = (analysisId: number) =>
    flags.filter((flag) => flag.analysisId === analysisId).map((flag) => flag.timeMs);
  const sideProps = { session, timeMs, playhead: playback.playhead, overlays, onSeekTime: seekTime };
  return (
    <div className="compare" data-testid="compare-screen" data-time-ms={timeMs}>
      <div className="compare-main">
        <div className="toolbar">
          <a href={`#/session/${sessionId}`} className="button-link" data-testid="compare-back">
            ‹ Session
          </a>
          <strong>Compare</strong>
          <span className="muted" data-testid="compare-time">
            <PlayheadTime playhead={playback.playhead} frameMs={timeMs} />
          </span>
          <button onClick={() => onChoose(analysisB.id, analysisA.id)} title="Swap A and B" data-testid="compare-swap">
            ⇄ Swap
          </button>
          <span className="spacer" />
          <OverlayControls overlays={overlays} onChange={setOverlays} />
          <PlaybackControls playback={playback} video={undefined} />
        </div>
        <div className="compare-sides">
          <CompareSide
            side="A"
            analysis={analysisA}
            choices={analyses.filter((analysis) => analysis.id !== analysisA.id && analysis.id !== analysisB.id)}
            onChoose={(id) => onChoose(id, analysisB.id)}
            data={sideA}
            flagTimes={flagTimesOf(analysisA.id)}
            {...sideProps}
          />
          <CompareSide
            side="B"
            analysis={analysisB}
            choices={analyses.filter((analysis) => analysis.id !== analysisA.id && analysis.id !== analysisB.id)}
            onChoose={(id) => onChoose(analysisA.id, id)}
            data={sideB}
            flagTimes={flagTimesOf(analysisB.id)}
            {...sideProps}
          />
        </div>
      </div>
      <aside className="side compare-panel">
        <h3 className="panel-title">Events: A against B</h3>
        <EventDifferencePanel
          difference={difference}
          eventCounts={{ a: eventsA?.length ?? 0, b: eventsB?.length ?? 0 }}
          timeMs={timeMs}
          onSeek={seekTime}
        />
      </aside>
    </div>
  );
}

/** The analysed times of both sides in one ascending list, each time once. */
function mergeTimes(timesA: ArrayLike<number>, timesB: ArrayLike<number>): Float64Array {
  const all = Float64Array.from([...Array.from(timesA), ...Array.from(timesB)]).sort();
  return all.filter((time, index) => index === 0 || time !== all[index - 1]);
}
