import { useCallback, useEffect, useMemo, useState } from 'react';
import { useApi } from '../api/context';
import { formatPercent, formatScore } from '../ui/format';
import { AnalysisProgress, StatusBadge } from '../ui/ProgressBar';
import { FrameMarks, SessionViewContext, ViewerToolSlot, type SessionPanel, type SessionView } from './context';
import { FlagDialog } from './FlagDialog';
import { footageAspect, FrameViewer, type OverlaySettings } from './FrameViewer';
import { DEFAULT_OVERLAYS, OverlayControls } from './OverlayControls';
import { hashOf } from '../ui/route';
import { FIND_MORE_PANEL, runSearch, type SimilarSearch } from '../similar/search';
import { KeyHelp } from './KeyHelp';
import { Legend } from './Legend';
import { Timeline } from './Timeline';
import { useSessionKeys } from './useSessionKeys';
import { eventToward } from './navigation';
import { PlaybackControls, PlayheadTime } from './PlaybackControls';
import { nearestFrame } from './timeline-draw';
import { usePlayback } from './usePlayback';
import { useVideoClock, useVideoClockState, VideoLayer } from './VideoLayer';
import { ThresholdControl } from './ThresholdControl';
import { formatCount } from '../ui/format';
import { useEventSettings } from './useEventSettings';
import { useFlagDialog } from './useFlagDialog';
import { useFrameSummary, useSessionData } from './useSessionData';

/** One drive: frame viewer with overlays, the score timeline, and the side panels, all keyboard-driven. */
export function SessionScreen({
  sessionId,
  at,
  panel,
  panels,
  onTitle,
}: {
  sessionId: number;
  /** Opens the drive on this frame of this analysis (and again whenever it changes). */
  at?: { analysisId: number; frameIndex: number };
  /** The side panel tab to open with, by id. */
  panel?: string;
  /** The side panel's tabs, in order (src-renderer/src/panels.ts). */
  panels: readonly SessionPanel[];
  onTitle: (title: string | undefined) => void;
}) {
  const api = useApi();
  const [frameIndex, setFrameIndex] = useState(0);
  const data = useSessionData(sessionId, onTitle, setFrameIndex);
  const { session, analyses, analysis, timeline, times, eventState, flags, loadFlags, reloadAnalysisData } = data;
  const analysisId = analysis?.id;
  const eventSettings = useEventSettings(analysis, eventState, data.setEventState);
  const { threshold, draftThreshold, shownThreshold, commitThreshold } = eventSettings;
  const [overlays, setOverlays] = useState<OverlaySettings>(DEFAULT_OVERLAYS);
  const [showKeys, setShowKeys] = useState(false);
  const [panelId, setPanelId] = useState(panel ?? panels[0]?.id);
  const { showFrame } = data;
  const [atAnalysis, atFrame] = [at?.analysisId, at?.frameIndex];
  useEffect(() => {
    if (atAnalysis !== undefined && atFrame !== undefined) showFrame(atAnalysis, atFrame);
  }, [showFrame, atAnalysis, atFrame]);
  const findSimilar = useCallback(
    (search: SimilarSearch) => {
      void runSearch(api, search);
      setPanelId(FIND_MORE_PANEL);
    },
    [api],
  );
  const frameCount = timeline?.timesMs.length ?? 0;

  const seek = useCallback(
    (index: number) => setFrameIndex(Math.max(0, Math.min(index, Math.max(0, frameCount - 1)))),
    [frameCount],
  );
  const summary = useFrameSummary(analysisId, frameIndex, times);
  const videoClock = useVideoClock(session);
  const videoState = useVideoClockState(videoClock);
  const playback = usePlayback(times, frameIndex, seek, videoClock);
  const { pause } = playback;

  const events = eventState?.events;
  const flagDialog = useFlagDialog({
    analysisId,
    timesMs: timeline?.timesMs,
    events,
    frameIndex,
    onOpen: pause,
    onSaved: loadFlags,
  });
  const requestFlag = flagDialog.request;

  const jumpToEvent = (direction: 1 | -1) => {
    const target = eventToward(events ?? [], frameIndex, direction);
    if (target) seek(target.peakFrame);
  };

  const modalOpen = flagDialog.target !== undefined || showKeys;
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
            findSimilar,
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
      findSimilar,
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
  const ActivePanel = (panels.find((panel) => panel.id === panelId) ?? panels[0])?.component;
  const flagsHere = flags.filter((flag) => flag.analysisId === analysis.id).length;

  return (
    <div className="session" data-testid="session-screen" data-frame-count={frameCount}>
      <div className="session-main">
        <div className="toolbar">
          <select
            value={analysis.id}
            onChange={(event) => data.chooseAnalysis(Number(event.target.value), timeline?.timesMs[frameIndex])}
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
          <CompareButton sessionId={session.id} analysisId={analysis.id} analyses={analyses} />
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
              regionThreshold={shownThreshold}
              underlay={videoClock && <VideoLayer clock={videoClock} />}
              onFindSimilar={({ frameIndex: frame, regionIndex, region }) =>
                findSimilar({
                  sessionId: session.id,
                  analysisId: analysis.id,
                  frameIndex: frame,
                  query: { kind: 'region', regionIndex },
                  origin: `the unknown region (score ${region.score.toFixed(2)}) at frame ${frame}`,
                })
              }
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
                score <strong className={summary.score > threshold ? 'hot' : ''}>{formatScore(summary.score)}</strong> ·
                unknown {formatPercent(summary.unknownFraction)}
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
              threshold={threshold}
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
            {threshold.toFixed(3)} · {formatCount(flagsHere, 'flag')}
          </span>
          {eventState && (
            <ThresholdControl
              analysisId={analysis.id}
              settings={eventState.settings}
              draft={draftThreshold}
              onChange={commitThreshold}
              onCancel={eventSettings.cancelDraft}
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
          {view && ActivePanel ? (
            <SessionViewContext.Provider value={view}>
              <ActivePanel />
            </SessionViewContext.Provider>
          ) : (
            <div className="empty muted">Loading…</div>
          )}
        </div>
      </aside>
      {flagDialog.target && (
        <FlagDialog
          target={flagDialog.target}
          onSave={(category, note) => void flagDialog.save(category, note)}
          onClose={flagDialog.close}
        />
      )}
      {showKeys && <KeyHelp onClose={() => setShowKeys(false)} />}
    </div>
  );
}

/** Opens the compare screen with the analysis on screen as B and the one before it (or after) as A. */
function CompareButton({
  sessionId,
  analysisId,
  analyses,
}: {
  sessionId: number;
  analysisId: number;
  analyses: readonly { id: number }[];
}) {
  const others = analyses.filter((candidate) => candidate.id !== analysisId).map((candidate) => candidate.id);
  const before = others.filter((id) => id < analysisId);
  const other = before.length > 0 ? Math.max(...before) : others[0];
  return (
    <button
      onClick={() => {
        if (other !== undefined)
          window.location.hash = hashOf({ screen: 'compare', sessionId, a: other, b: analysisId });
      }}
      disabled={other === undefined}
      title={
        other === undefined
          ? 'Compare needs a second analysis of this drive: re-analyse it with another model or after teaching'
          : 'Compare this analysis with another of the same drive, side by side'
      }
      data-testid="compare-open"
    >
      ⇆ Compare
    </button>
  );
}
