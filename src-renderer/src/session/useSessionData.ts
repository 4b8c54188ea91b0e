import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  AnalysisInfo,
  EventInfo,
  EventSettings,
  Flag,
  FrameSummary,
  SessionInfo,
  Timeline,
} from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useGuarded } from '../ui/toasts';
import { nearestFrame } from './timeline-draw';

const TIMELINE_REFRESH_MS = 1500;
const NO_TIMES = new Float64Array(0);

export interface EventState {
  settings: EventSettings;
  events: EventInfo[];
}

/** What the session screen shows, kept in step with the main side while an analysis runs. */
export interface SessionData {
  session?: SessionInfo;
  analyses: AnalysisInfo[];
  /** The analysis on screen. */
  analysis?: AnalysisInfo;
  timeline?: Timeline;
  /** The times of the analysis on screen only: empty until its own timeline is in. */
  times: ArrayLike<number>;
  eventState?: EventState;
  setEventState: (state: EventState) => void;
  flags: Flag[];
  loadFlags: () => Promise<unknown>;
  /** Shows another analysis; the playhead keeps its drive time, since that analysis samples other frames. */
  chooseAnalysis: (analysisId: number, playheadMs: number | undefined) => void;
  /** Shows one frame of one analysis of this drive (a search result, a link), once its timeline is in. */
  showFrame: (analysisId: number, frameIndex: number) => void;
  /** Reads the analysis on screen again (it grows while it runs; a panel changed it). */
  reloadAnalysisData: () => void;
}

/**
 * The session, its analyses, and the timeline, events and flags of the analysis on screen, with the analysis's
 * progress followed as it runs. `setFrameIndex` moves the playhead when another analysis's timeline comes in.
 */
export function useSessionData(
  sessionId: number,
  onTitle: (title: string | undefined) => void,
  setFrameIndex: (index: number) => void,
): SessionData {
  const api = useApi();
  const guarded = useGuarded();
  const [session, setSession] = useState<SessionInfo>();
  const [analyses, setAnalyses] = useState<AnalysisInfo[]>([]);
  const [analysisId, setAnalysisId] = useState<number>();
  const [timeline, setTimeline] = useState<Timeline>();
  const [eventState, setEventState] = useState<EventState>();
  const [flags, setFlags] = useState<Flag[]>([]);
  /** Drive time of the playhead when another analysis was chosen: its frame there is shown once its timeline is in. */
  const keepTime = useRef<number | undefined>(undefined);
  /** A frame asked for by showFrame: shown once the timeline of its analysis is in. */
  const keepFrame = useRef<number | undefined>(undefined);

  const loadSession = useCallback(async () => {
    const [info, list] = await Promise.all([
      api.call('sessions.get', { sessionId }),
      api.call('analysis.list', { sessionId }),
    ]);
    setSession(info);
    setAnalyses(list);
    setAnalysisId((current) => current ?? info.latestAnalysis?.id ?? list[0]?.id);
    onTitle(info.name);
  }, [api, sessionId, onTitle]);

  const loadFlags = useCallback(
    () => guarded(() => api.call('flags.list', { sessionId }).then(setFlags)),
    [api, guarded, sessionId],
  );

  useEffect(() => {
    void guarded(loadSession);
    void loadFlags();
    return () => onTitle(undefined);
  }, [guarded, loadSession, loadFlags, onTitle]);

  /** Bumped to read the analysis on screen again. */
  const [dataVersion, setDataVersion] = useState(0);
  const reloadAnalysisData = useCallback(() => setDataVersion((version) => version + 1), []);

  const chooseAnalysis = useCallback((id: number, playheadMs: number | undefined) => {
    keepTime.current = playheadMs;
    setAnalysisId(id);
  }, []);

  const showFrame = useCallback(
    (id: number, frameIndex: number) => {
      keepFrame.current = frameIndex;
      setAnalysisId(id);
      // Read again even when that analysis is on screen already, so the frame is applied with its timeline.
      reloadAnalysisData();
    },
    [reloadAnalysisData],
  );

  useEffect(() => {
    if (analysisId === undefined) return;
    let current = true;
    void guarded(async () => {
      const [line, events] = await Promise.all([
        api.call('timeline.get', { analysisId }),
        api.call('events.list', { analysisId }),
      ]);
      // An answer for an analysis no longer on screen is dropped.
      if (!current) return;
      // Another analysis samples other frames: the playhead keeps its time, not its frame number.
      if (keepTime.current !== undefined) setFrameIndex(nearestFrame(line.timesMs, keepTime.current));
      if (keepFrame.current !== undefined) setFrameIndex(Math.min(keepFrame.current, line.timesMs.length - 1));
      keepTime.current = undefined;
      keepFrame.current = undefined;
      setTimeline(line);
      setEventState(events);
    });
    return () => {
      current = false;
    };
  }, [api, guarded, analysisId, dataVersion, setFrameIndex]);

  // While the analysis runs, the timeline grows: re-read it at a calm pace, and once more when it ends.
  const lastRefresh = useRef(0);
  useEffect(
    () =>
      api.on('analysis.progress', (update) => {
        if (update.sessionId !== sessionId) return;
        setAnalyses((current) =>
          current.some((a) => a.id === update.id)
            ? current.map((a) => (a.id === update.id ? update : a))
            : [update, ...current],
        );
        const finished = update.status !== 'running' && update.status !== 'queued';
        // A finished analysis has taken over the flags of the one before it.
        if (finished) void loadFlags();
        if (update.id !== analysisId) return;
        if (finished || performance.now() - lastRefresh.current > TIMELINE_REFRESH_MS) {
          lastRefresh.current = performance.now();
          reloadAnalysisData();
        }
      }),
    [api, sessionId, analysisId, reloadAnalysisData, loadFlags],
  );

  // Only the analysis on screen's own times: the old timeline stays in state until the new one arrives.
  const times = useMemo(
    () => (timeline && timeline.analysisId === analysisId ? timeline.timesMs : NO_TIMES),
    [timeline, analysisId],
  );

  return {
    session,
    analyses,
    analysis: analyses.find((candidate) => candidate.id === analysisId),
    timeline,
    times,
    eventState,
    setEventState,
    flags,
    loadFlags,
    chooseAnalysis,
    showFrame,
    reloadAnalysisData,
  };
}

/**
 * The summary (score, areas) of the frame on screen, once scrubbing pauses; not before the analysis's own
 * timeline is in, when the frame index may still be the previous analysis's.
 */
export function useFrameSummary(
  analysisId: number | undefined,
  frameIndex: number,
  times: ArrayLike<number>,
): FrameSummary | undefined {
  const api = useApi();
  const [summary, setSummary] = useState<FrameSummary>();
  useEffect(() => {
    if (analysisId === undefined || times.length === 0) return;
    const timer = setTimeout(() => {
      api.call('frames.get', { analysisId, frameIndex }).then(setSummary, () => setSummary(undefined));
    }, 60);
    return () => clearTimeout(timer);
  }, [api, analysisId, frameIndex, times]);
  return summary;
}
