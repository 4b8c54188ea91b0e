import { useState } from 'react';
import type { AnalysisInfo, SessionInfo } from '../../../src-shared/contract/index';
import { FrameMarks, ViewerToolSlot, type ValueStore } from '../session/context';
import { footageAspect, FrameViewer, type OverlaySettings } from '../session/FrameViewer';
import { Timeline } from '../session/Timeline';
import { nearestFrame } from '../session/timeline-draw';
import { useEventSettings } from '../session/useEventSettings';
import { formatCount, formatScore, formatTime } from '../ui/format';
import { StatusBadge } from '../ui/ProgressBar';
import type { ComparedAnalysis } from './useComparedAnalysis';

/** The name of an analysis in a list: its id, model, taught-class version and status. */
export function analysisLabel(analysis: AnalysisInfo): string {
  const knowledge = analysis.knowledgeVersion === null ? '' : ` · taught v${analysis.knowledgeVersion}`;
  return `#${analysis.id} ${analysis.modelName}${knowledge} · ${analysis.status}`;
}

/**
 * One analysis of the compare screen: its frame nearest the shared playhead time, with overlays, and its own
 * score timeline, whose threshold line can be dragged as on the session screen. Scrubbing it moves both sides.
 */
export function CompareSide({
  side,
  session,
  analysis,
  choices,
  onChoose,
  data,
  timeMs,
  playhead,
  overlays,
  flagTimes,
  onSeekTime,
}: {
  side: 'A' | 'B';
  session: SessionInfo;
  analysis: AnalysisInfo;
  /** The analyses this side may show instead (not the other side's). */
  choices: readonly AnalysisInfo[];
  onChoose: (analysisId: number) => void;
  data: ComparedAnalysis;
  timeMs: number;
  playhead: ValueStore<number>;
  overlays: OverlaySettings;
  /** Times of the flags set on this analysis. */
  flagTimes: readonly number[];
  onSeekTime: (timeMs: number) => void;
}) {
  const { timeline, eventState } = data;
  const eventSettings = useEventSettings(analysis, eventState, data.setEventState);
  const { threshold, shownThreshold } = eventSettings;
  const [marks] = useState(() => new FrameMarks());
  const [viewerTool] = useState(() => new ViewerToolSlot());
  const times = timeline?.timesMs;
  const frameCount = times?.length ?? 0;
  const frameIndex = times ? nearestFrame(times, timeMs) : 0;
  const score = timeline?.scores[frameIndex];
  return (
    <section className="compare-side" data-testid={`compare-side-${side.toLowerCase()}`} data-analysis-id={analysis.id}>
      <header className="compare-side-head">
        <span className={`side-mark side-${side.toLowerCase()}`}>{side}</span>
        <select
          value={analysis.id}
          onChange={(event) => onChoose(Number(event.target.value))}
          title={`Analysis shown as ${side}`}
          data-testid={`compare-select-${side.toLowerCase()}`}
        >
          {[analysis, ...choices]
            .sort((x, y) => x.id - y.id)
            .map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {analysisLabel(candidate)}
              </option>
            ))}
        </select>
        <StatusBadge status={analysis.status} />
        <span className="muted">
          {eventState ? formatCount(eventState.events.length, 'event') : '…'} above {shownThreshold.toFixed(3)}
        </span>
      </header>
      <div className="viewer-area">
        {timeline && frameCount > 0 ? (
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
          />
        ) : (
          <div className="empty muted">{timeline ? 'This analysis has no analysed frame.' : 'Loading…'}</div>
        )}
        {times && frameCount > 0 && (
          <div className="hud" data-testid="compare-hud" data-frame-index={frameIndex} data-time-ms={times[frameIndex]}>
            <strong>frame {frameIndex}</strong>
            <span className="muted"> / {frameCount - 1}</span> · {formatTime(times[frameIndex] ?? 0)}
            {score !== undefined && (
              <>
                {' '}
                · score <strong className={score > threshold ? 'hot' : ''}>{formatScore(score)}</strong>
              </>
            )}
          </div>
        )}
      </div>
      <div className="timeline-area">
        {timeline && frameCount > 0 && (
          <Timeline
            timeline={timeline}
            events={eventState?.events ?? []}
            flagTimes={flagTimes}
            frameIndex={frameIndex}
            playhead={playhead}
            threshold={threshold}
            draftThreshold={eventSettings.draftThreshold}
            onSeek={(index) => onSeekTime(times?.[index] ?? 0)}
            onThreshold={eventSettings.commitThreshold}
          />
        )}
      </div>
    </section>
  );
}
