import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  AnalysisInfo,
  EventInfo,
  EventSettings,
  Flag,
  FrameSummary,
  SessionInfo,
  Timeline as TimelineData,
} from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { formatPercent, formatScore, formatTime } from '../ui/format';
import { AnalysisProgress, StatusBadge } from '../ui/ProgressBar';
import { useGuarded, useToast } from '../ui/toasts';
import { AnomalyBrowser } from './AnomalyBrowser';
import { FrameMarks, SessionViewContext, type SessionPanel, type SessionView } from './context';
import { ExportPanel } from './ExportPanel';
import { FlagDialog, type FlagTarget } from './FlagDialog';
import { FlagsPanel } from './FlagsPanel';
import { FrameViewer, type OverlaySettings } from './FrameViewer';
import { KeyHelp } from './KeyHelp';
import { Legend } from './Legend';
import { contributedPanels } from './panels';
import { Timeline } from './Timeline';
import { useSessionKeys } from './useSessionKeys';
import { RangeField } from '../ui/RangeField';

const builtInPanels: SessionPanel[] = [
  { id: 'anomalies', title: 'Anomalies', order: 10, component: AnomalyBrowser },
  { id: 'flags', title: 'Flags', order: 20, component: FlagsPanel },
  { id: 'export', title: 'Export', order: 30, component: ExportPanel },
];
const panels = [...builtInPanels, ...contributedPanels()].sort((a, b) => a.order - b.order);
const TIMELINE_REFRESH_MS = 1500;

/** One drive: frame viewer with overlays, the score timeline, and the side panels, all keyboard-driven. */
export function SessionScreen({
  sessionId,
  onTitle,
}: {
  sessionId: number;
  onTitle: (title: string | undefined) => void;
}) {
  const api = useApi();
  const guarded = useGuarded();
  const toast = useToast();
  const [session, setSession] = useState<SessionInfo>();
  const [analyses, setAnalyses] = useState<AnalysisInfo[]>([]);
  const [analysisId, setAnalysisId] = useState<number>();
  const [timeline, setTimeline] = useState<TimelineData>();
  const [eventState, setEventState] = useState<{ settings: EventSettings; events: EventInfo[] }>();
  const [flags, setFlags] = useState<Flag[]>([]);
  const [frameIndex, setFrameIndex] = useState(0);
  const [summary, setSummary] = useState<FrameSummary>();
  const [playing, setPlaying] = useState(false);
  const [overlays, setOverlays] = useState<OverlaySettings>({
    classes: true,
    heat: true,
    outline: true,
    opacity: 0.55,
  });
  const [flagTarget, setFlagTarget] = useState<FlagTarget>();
  const [showKeys, setShowKeys] = useState(false);
  const [panelId, setPanelId] = useState('anomalies');
  const analysis = analyses.find((candidate) => candidate.id === analysisId);
  const frameCount = timeline?.timesMs.length ?? 0;

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

  const loadAnalysisData = useCallback(
    (id: number) =>
      guarded(async () => {
        const [line, events] = await Promise.all([
          api.call('timeline.get', { analysisId: id }),
          api.call('events.list', { analysisId: id }),
        ]);
        setTimeline(line);
        setEventState(events);
      }),
    [api, guarded],
  );

  useEffect(() => {
    void guarded(loadSession);
    void loadFlags();
    return () => onTitle(undefined);
  }, [guarded, loadSession, loadFlags, onTitle]);

  useEffect(() => {
    if (analysisId !== undefined) void loadAnalysisData(analysisId);
  }, [analysisId, loadAnalysisData]);

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
        if (update.id !== analysisId) return;
        const finished = update.status !== 'running' && update.status !== 'queued';
        if (finished || performance.now() - lastRefresh.current > TIMELINE_REFRESH_MS) {
          lastRefresh.current = performance.now();
          void loadAnalysisData(update.id);
        }
      }),
    [api, sessionId, analysisId, loadAnalysisData],
  );

  const seek = useCallback(
    (index: number) => setFrameIndex(Math.max(0, Math.min(index, Math.max(0, frameCount - 1)))),
    [frameCount],
  );

  // The summary (score, areas) follows the frame once scrubbing pauses.
  useEffect(() => {
    if (analysisId === undefined || frameCount === 0) return;
    const timer = setTimeout(() => {
      api.call('frames.get', { analysisId, frameIndex }).then(setSummary, () => setSummary(undefined));
    }, 60);
    return () => clearTimeout(timer);
  }, [api, analysisId, frameIndex, frameCount]);

  // Playback at the drive's own pace (the sampled frame times), never faster than the frames can appear.
  useEffect(() => {
    if (!playing || !timeline) return;
    const atEnd = frameIndex >= frameCount - 1;
    const gap = atEnd ? 0 : (timeline.timesMs[frameIndex + 1] ?? 0) - (timeline.timesMs[frameIndex] ?? 0);
    const timer = setTimeout(
      () => (atEnd ? setPlaying(false) : seek(frameIndex + 1)),
      Math.max(40, Math.min(1000, gap)),
    );
    return () => clearTimeout(timer);
  }, [playing, frameIndex, frameCount, timeline, seek]);

  const requestFlag = useCallback(
    (target?: { frameIndex?: number; eventId?: number }) => {
      if (!timeline) return;
      const event =
        target?.eventId !== undefined
          ? eventState?.events.find((candidate) => candidate.id === target.eventId)
          : undefined;
      const index = event?.peakFrame ?? target?.frameIndex ?? frameIndex;
      setPlaying(false);
      setFlagTarget({
        eventId: event?.id,
        frameIndex: event ? undefined : index,
        timeMs: event?.peakMs ?? timeline.timesMs[index] ?? 0,
        label: event ? `event (${((event.endMs - event.startMs) / 1000).toFixed(1)} s)` : `frame ${index}`,
      });
    },
    [timeline, eventState, frameIndex],
  );

  const saveFlag = async (category: Flag['category'], note: string) => {
    if (!flagTarget || analysisId === undefined) return;
    setFlagTarget(undefined);
    const flag = await guarded(() =>
      api.call('flags.add', {
        analysisId,
        frameIndex: flagTarget.frameIndex,
        eventId: flagTarget.eventId,
        category,
        note,
      }),
    );
    if (flag) {
      toast('info', `Flagged frame ${flag.frameIndex} as ${flag.category}`);
      await loadFlags();
    }
  };

  const commitThreshold = useCallback(
    (threshold: number, commit: boolean) => {
      if (!commit || analysisId === undefined || !eventState) return;
      void guarded(async () =>
        setEventState(await api.call('events.list', { analysisId, settings: { ...eventState.settings, threshold } })),
      );
    },
    [api, guarded, analysisId, eventState],
  );

  const events = eventState?.events;
  const jumpToEvent = useCallback(
    (direction: 1 | -1) => {
      if (!events?.length || !timeline) return;
      const now = timeline.timesMs[frameIndex] ?? 0;
      const ordered = [...events].sort((a, b) => a.startMs - b.startMs);
      const next =
        direction > 0
          ? ordered.find((event) => event.startMs > now)
          : ordered.reverse().find((event) => event.endMs < now || event.startMs < now - 1);
      if (next) seek(next.peakFrame);
    },
    [events, timeline, frameIndex, seek],
  );

  const modalOpen = flagTarget !== undefined || showKeys;
  useSessionKeys(!modalOpen, {
    togglePlay: () => setPlaying((value) => !value),
    step: (delta) => {
      setPlaying(false);
      seek(frameIndex + delta);
    },
    home: () => seek(0),
    end: () => seek(frameCount - 1),
    nextEvent: () => jumpToEvent(1),
    previousEvent: () => jumpToEvent(-1),
    flag: () => requestFlag(),
    help: () => setShowKeys(true),
    toggle: (layer) => setOverlays((current) => ({ ...current, [layer]: !current[layer] })),
    opacity: (delta) =>
      setOverlays((current) => ({ ...current, opacity: Math.max(0.05, Math.min(1, current.opacity + delta)) })),
  });

  const flagTimes = useMemo(
    () => flags.filter((flag) => flag.analysisId === analysisId).map((flag) => flag.timeMs),
    [flags, analysisId],
  );
  const [marks] = useState(() => new FrameMarks());
  const view: SessionView | undefined = useMemo(
    () =>
      session && analysis && timeline
        ? {
            api,
            session,
            analysis,
            classes: analysis.classes,
            timeline,
            events: events ?? [],
            flags,
            frameIndex,
            seek,
            requestFlag,
            refresh: () => {
              void loadFlags();
              if (analysisId !== undefined) void loadAnalysisData(analysisId);
            },
            marks,
          }
        : undefined,
    [
      api,
      session,
      analysis,
      timeline,
      events,
      flags,
      frameIndex,
      seek,
      requestFlag,
      loadFlags,
      loadAnalysisData,
      analysisId,
      marks,
    ],
  );

  if (!session) return <div className="empty muted">Loading session…</div>;
  if (!analysis) {
    return (
      <div className="empty" data-testid="session-screen">
        <p>This session has no analysis yet.</p>
        <p className="muted">Start one from the library.</p>
      </div>
    );
  }
  const ActivePanel = panels.find((panel) => panel.id === panelId)?.component ?? AnomalyBrowser;
  const flagsHere = flags.filter((flag) => flag.analysisId === analysis.id).length;

  return (
    <div className="session" data-testid="session-screen" data-frame-count={frameCount}>
      <div className="session-main">
        <div className="toolbar">
          <select
            value={analysis.id}
            onChange={(event) => setAnalysisId(Number(event.target.value))}
            title="Analysis on screen"
            data-testid="analysis-select"
          >
            {analyses.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                #{candidate.id} {candidate.modelName} · {candidate.status}
              </option>
            ))}
          </select>
          <StatusBadge status={analysis.status} />
          {(analysis.status === 'running' || analysis.status === 'queued') && (
            <div className="toolbar-progress">
              <AnalysisProgress analysis={analysis} />
            </div>
          )}
          <span className="spacer" />
          <OverlayControls overlays={overlays} onChange={setOverlays} />
          <button
            className={playing ? 'on' : ''}
            onClick={() => setPlaying((value) => !value)}
            title="Play / pause (Space)"
            data-testid="play"
          >
            {playing ? '❚❚' : '▶'}
          </button>
          <button
            onClick={() => requestFlag()}
            title="Flag this frame (F)"
            data-testid="flag-frame"
            disabled={frameCount === 0}
          >
            ⚑ Flag
          </button>
          <button onClick={() => setShowKeys(true)} title="Keyboard (?)">
            ?
          </button>
        </div>
        <div className="viewer-area">
          {view && frameCount > 0 ? (
            <FrameViewer
              key={analysis.id}
              analysisId={analysis.id}
              frameIndex={frameIndex}
              frameCount={frameCount}
              classes={analysis.classes}
              overlays={overlays}
              marks={marks}
            />
          ) : (
            <div className="empty muted">No analysed frame yet.</div>
          )}
          <div className="hud" data-testid="hud">
            <div>
              <strong>frame {frameIndex}</strong>
              <span className="muted"> / {Math.max(0, frameCount - 1)}</span> ·{' '}
              {formatTime(timeline?.timesMs[frameIndex] ?? 0)}
            </div>
            {summary && summary.index === frameIndex && (
              <div>
                score{' '}
                <strong className={summary.score > (eventState?.settings.threshold ?? analysis.threshold) ? 'hot' : ''}>
                  {formatScore(summary.score)}
                </strong>{' '}
                · unknown {formatPercent(summary.unknownFraction)}
                {summary.flagged && <span className="flag-mark"> ⚑ flagged</span>}
              </div>
            )}
          </div>
          <Legend classes={analysis.classes} summary={summary?.index === frameIndex ? summary : undefined} />
        </div>
        <div className="timeline-area">
          {timeline && timeline.timesMs.length > 0 ? (
            <Timeline
              timeline={timeline}
              events={events ?? []}
              flagTimes={flagTimes}
              frameIndex={frameIndex}
              threshold={eventState?.settings.threshold ?? analysis.threshold}
              onSeek={(index) => {
                setPlaying(false);
                seek(index);
              }}
              onThreshold={commitThreshold}
            />
          ) : (
            <div className="empty muted">The score timeline appears as frames are analysed.</div>
          )}
        </div>
        <div className="statusbar">
          <span>{session.name}</span>
          <span className="muted">
            {frameCount.toLocaleString()} frames · {events?.length ?? 0} events above{' '}
            {(eventState?.settings.threshold ?? analysis.threshold).toFixed(2)} · {flagsHere} flags
          </span>
          <span className="spacer" />
          <span className="muted">
            <kbd>Space</kbd> play <kbd>←→</kbd> step <kbd>N</kbd>/<kbd>P</kbd> events <kbd>F</kbd> flag <kbd>?</kbd>{' '}
            keys
          </span>
        </div>
      </div>
      <aside className="side">
        <div className="tabs" role="tablist">
          {panels.map((panel) => (
            <button
              key={panel.id}
              role="tab"
              className={panel.id === panelId ? 'on' : ''}
              onClick={() => setPanelId(panel.id)}
              data-testid={`tab-${panel.id}`}
            >
              {panel.title}
              {panel.id === 'flags' && flagsHere > 0 && <span className="tab-count">{flagsHere}</span>}
              {panel.id === 'anomalies' && events && <span className="tab-count">{events.length}</span>}
            </button>
          ))}
        </div>
        <div className="panel-body">
          {view ? (
            <SessionViewContext.Provider value={view}>
              <ActivePanel />
            </SessionViewContext.Provider>
          ) : (
            <div className="empty muted">Loading…</div>
          )}
        </div>
      </aside>
      {flagTarget && (
        <FlagDialog
          target={flagTarget}
          onSave={(category, note) => void saveFlag(category, note)}
          onClose={() => setFlagTarget(undefined)}
        />
      )}
      {showKeys && <KeyHelp onClose={() => setShowKeys(false)} />}
    </div>
  );
}

function OverlayControls({
  overlays,
  onChange,
}: {
  overlays: OverlaySettings;
  onChange: (next: OverlaySettings) => void;
}) {
  const toggle = (layer: 'classes' | 'heat' | 'outline', label: string, key: string) => (
    <label className={`toggle${overlays[layer] ? ' on' : ''}`} title={`${label} (${key})`}>
      <input
        type="checkbox"
        checked={overlays[layer]}
        onChange={() => onChange({ ...overlays, [layer]: !overlays[layer] })}
        data-testid={`toggle-${layer}`}
      />
      {label}
    </label>
  );
  return (
    <div className="overlay-controls">
      {toggle('classes', 'Classes', 'C')}
      {toggle('heat', 'OOD heat', 'H')}
      {toggle('outline', 'Unknown regions', 'O')}
      <RangeField
        className="opacity"
        title="Overlay opacity ([ and ])"
        min={0.05}
        max={1}
        step={0.05}
        value={overlays.opacity}
        display={`${Math.round(overlays.opacity * 100)}%`}
        onChange={(opacity) => onChange({ ...overlays, opacity })}
        testId="overlay-opacity"
      />
    </div>
  );
}
