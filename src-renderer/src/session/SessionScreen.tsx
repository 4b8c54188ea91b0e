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
import { formatPercent, formatScore } from '../ui/format';
import { AnalysisProgress, StatusBadge } from '../ui/ProgressBar';
import { useGuarded, useToast } from '../ui/toasts';
import { AnomalyBrowser } from './AnomalyBrowser';
import { FrameMarks, SessionViewContext, ViewerToolSlot, type SessionPanel, type SessionView } from './context';
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
import { eventToward } from './navigation';
import { PlaybackControls, PlayheadTime } from './PlaybackControls';
import { nearestFrame } from './timeline-draw';
import { usePlayback } from './usePlayback';
import { useVideoClock, useVideoClockState, VideoLayer } from './VideoLayer';
import { ThresholdControl } from './ThresholdControl';
import { formatCount } from '../ui/format';

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
  /** Drive time of the playhead when another analysis was chosen: its frame there is shown once its timeline is in. */
  const keepTime = useRef<number | undefined>(undefined);
  /** The threshold while the line is dragged or typed, before it is stored. */
  const [draftThreshold, setDraftThreshold] = useState<number>();
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

  useEffect(() => {
    void guarded(loadSession);
    void loadFlags();
    return () => onTitle(undefined);
  }, [guarded, loadSession, loadFlags, onTitle]);

  /** Bumped to read the analysis on screen again (it grows while it runs; a panel changed it). */
  const [dataVersion, setDataVersion] = useState(0);
  const reloadAnalysisData = useCallback(() => setDataVersion((version) => version + 1), []);

  const chooseAnalysis = (id: number) => {
    keepTime.current = timeline?.timesMs[frameIndex];
    setAnalysisId(id);
  };

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
      keepTime.current = undefined;
      setTimeline(line);
      setEventState(events);
    });
    return () => {
      current = false;
    };
  }, [api, guarded, analysisId, dataVersion]);

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

  const seek = useCallback(
    (index: number) => setFrameIndex(Math.max(0, Math.min(index, Math.max(0, frameCount - 1)))),
    [frameCount],
  );

  // Only the analysis on screen's own times: the old timeline stays in state until the new one arrives.
  const times = useMemo(
    () => (timeline && timeline.analysisId === analysisId ? timeline.timesMs : []),
    [timeline, analysisId],
  );

  // The summary (score, areas) follows the frame once scrubbing pauses; not before the analysis's own
  // timeline is in, when the frame index may still be the previous analysis's.
  useEffect(() => {
    if (analysisId === undefined || times.length === 0) return;
    const timer = setTimeout(() => {
      api.call('frames.get', { analysisId, frameIndex }).then(setSummary, () => setSummary(undefined));
    }, 60);
    return () => clearTimeout(timer);
  }, [api, analysisId, frameIndex, times]);
  const videoClock = useVideoClock(session);
  const videoState = useVideoClockState(videoClock);
  const playback = usePlayback(times, frameIndex, seek, videoClock);
  const { pause } = playback;

  const requestFlag = useCallback(
    (target?: { frameIndex?: number; eventId?: number }) => {
      if (!timeline) return;
      const event =
        target?.eventId !== undefined
          ? eventState?.events.find((candidate) => candidate.id === target.eventId)
          : undefined;
      const index = event?.peakFrame ?? target?.frameIndex ?? frameIndex;
      pause();
      setFlagTarget({
        eventId: event?.id,
        frameIndex: event ? undefined : index,
        timeMs: event?.peakMs ?? timeline.timesMs[index] ?? 0,
        label: event ? `event (${((event.endMs - event.startMs) / 1000).toFixed(1)} s)` : `frame ${index}`,
      });
    },
    [timeline, eventState, frameIndex, pause],
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
      setDraftThreshold(commit ? undefined : threshold);
      if (!commit || analysisId === undefined || !eventState) return;
      void guarded(async () =>
        setEventState(await api.call('events.list', { analysisId, settings: { ...eventState.settings, threshold } })),
      );
    },
    [api, guarded, analysisId, eventState],
  );

  const events = eventState?.events;
  const jumpToEvent = (direction: 1 | -1) => {
    const target = eventToward(events ?? [], frameIndex, direction);
    if (target) seek(target.peakFrame);
  };

  const modalOpen = flagTarget !== undefined || showKeys;
  useSessionKeys(!modalOpen, {
    togglePlay: playback.toggle,
    shuttle: (direction) => (direction === 0 ? pause() : playback.shuttle(direction)),
    step: (delta) => {
      pause();
      seek(frameIndex + delta);
    },
    stepSeconds: (seconds) => {
      pause();
      seek(nearestFrame(times, (times[frameIndex] ?? 0) + seconds * 1000));
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
  const [viewerTool] = useState(() => new ViewerToolSlot());
  const view: SessionView | undefined = useMemo(
    () =>
      session && analysis && timeline?.analysisId === analysis.id
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
              reloadAnalysisData();
            },
            marks,
            viewerTool,
            overlays,
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
      reloadAnalysisData,
      marks,
      viewerTool,
      overlays,
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
            onChange={(event) => chooseAnalysis(Number(event.target.value))}
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
          <PlaybackControls playback={playback} video={videoState} />
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
              viewerTool={viewerTool}
              aspect={footageAspect(session)}
              regionThreshold={draftThreshold ?? eventState?.settings.threshold ?? analysis.threshold}
              underlay={videoClock && <VideoLayer clock={videoClock} />}
            />
          ) : (
            <div className="empty muted">No analysed frame yet.</div>
          )}
          <div className="hud" data-testid="hud" data-frame-index={frameIndex}>
            <div>
              <strong>frame {frameIndex}</strong>
              <span className="muted"> / {Math.max(0, frameCount - 1)}</span> ·{' '}
              <PlayheadTime playhead={playback.playhead} frameMs={timeline?.timesMs[frameIndex] ?? 0} />
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
              playhead={playback.playhead}
              threshold={eventState?.settings.threshold ?? analysis.threshold}
              draftThreshold={draftThreshold}
              onSeek={(index) => {
                pause();
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
          <span className="muted" data-testid="status-counts">
            {formatCount(frameCount, 'frame')} · {formatCount(events?.length ?? 0, 'event')} above{' '}
            {(eventState?.settings.threshold ?? analysis.threshold).toFixed(3)} · {formatCount(flagsHere, 'flag')}
          </span>
          {eventState && (
            <ThresholdControl
              analysisId={analysis.id}
              settings={eventState.settings}
              draft={draftThreshold}
              onChange={commitThreshold}
              onCancel={() => setDraftThreshold(undefined)}
            />
          )}
          <span className="spacer" />
          <span className="muted">
            <kbd>Space</kbd> play <kbd>J</kbd>
            <kbd>K</kbd>
            <kbd>L</kbd> shuttle <kbd>←→</kbd> step <kbd>N</kbd>/<kbd>P</kbd> events <kbd>F</kbd> flag <kbd>?</kbd> keys
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

/** Width / height of the drive as recorded; the stored maps and older previews are stretched to the model. */
function footageAspect(session: SessionInfo): number {
  return session.width > 0 && session.height > 0 ? session.width / session.height : 4 / 3;
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
