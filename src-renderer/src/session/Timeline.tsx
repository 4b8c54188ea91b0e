import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { EventInfo, Timeline as TimelineData } from '../../../src-shared/contract/index';
import { formatScore, formatTime } from '../ui/format';
import type { ValueStore } from './context';
import {
  drawMinimap,
  drawPlot,
  envelope,
  nearestFrame,
  scoreAxis,
  type Envelope,
  type TimeView,
} from './timeline-draw';

interface Props {
  timeline: TimelineData;
  events: readonly EventInfo[];
  flagTimes: readonly number[];
  frameIndex: number;
  /** Drive time of the playhead while playing, between analysed frames too; else the frame's own time. */
  playhead?: ValueStore<number>;
  threshold: number;
  /** A threshold being typed elsewhere, drawn before it is stored. */
  draftThreshold?: number;
  onSeek: (frameIndex: number) => void;
  /** Called while dragging (commit false) and once on release (commit true). */
  onThreshold: (value: number, commit: boolean) => void;
}

const PLOT_STYLE = { axis: 20, marks: 12 };
const GRAB_PX = 6;

type Drag = { mode: 'scrub' } | { mode: 'threshold'; startY: number; startValue: number } | { mode: 'pan' };

/** Shift while dragging the threshold: a tenth of the movement, for fine settings. */
const FINE_FACTOR = 0.1;

/**
 * The OOD score over the whole drive, drawn from a per-pixel-column envelope so 100,000 frames cost one pass.
 * Click or drag scrubs, dragging the red line moves the threshold, the wheel zooms around the pointer, and
 * the minimap under a zoomed plot shows and moves the visible window.
 */
export function Timeline(props: Props) {
  const { timeline, events, flagTimes, frameIndex, playhead, threshold, draftThreshold, onSeek, onThreshold } = props;
  const playheadMs = usePlayheadMs(playhead);
  const { timesMs: times, scores } = timeline;
  const full = fullView(times);
  const plotRef = useRef<HTMLCanvasElement>(null);
  const miniRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  /** The zoomed window; undefined shows the whole drive (and follows it as an analysis grows). */
  const [zoom, setZoom] = useState<TimeView>();
  const [hover, setHover] = useState<{ x: number; ms: number; index: number }>();
  const [dragThreshold, setDragThreshold] = useState<number>();
  const drag = useRef<Drag | undefined>(undefined);
  const envCache = useRef<{ key: string; env: Envelope }>(undefined);
  const ratio = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  const cursorMs = playheadMs ?? times[frameIndex] ?? 0;
  // Keep the playhead in sight while playing or stepping through a zoomed plot (state adjusted during render).
  if (zoom && (cursorMs < zoom.startMs || cursorMs > zoom.endMs)) {
    const span = zoom.endMs - zoom.startMs;
    setZoom(clampView({ startMs: cursorMs - span * 0.1, endMs: cursorMs + span * 0.9 }, full));
  }
  const view = zoom ?? full;
  const zoomed = zoom !== undefined;
  const shownThreshold = dragThreshold ?? draftThreshold ?? threshold;
  const axis = useMemo(() => scoreAxis(scores, threshold), [scores, threshold]);

  useLayoutEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const measure = () => setSize({ width: wrap.clientWidth, height: wrap.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(wrap);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const canvas = plotRef.current;
    if (!canvas || size.width === 0) return;
    const started = performance.now();
    const width = Math.round(size.width * ratio);
    const height = Math.round(size.height * ratio);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const key = `${view.startMs}:${view.endMs}:${width}:${times.length}:${scores.length}`;
    const rebuilt = envCache.current?.key !== key;
    if (rebuilt) envCache.current = { key, env: envelope(times, scores, view, Math.max(1, Math.floor(width / ratio))) };
    const context = canvas.getContext('2d');
    if (!context || !envCache.current) return;
    drawPlot(
      context,
      width,
      height,
      {
        env: envCache.current.env,
        view,
        threshold: shownThreshold,
        events,
        flagTimes,
        cursorMs,
        hoverMs: hover?.ms,
        axis,
      },
      { ...PLOT_STYLE, ratio },
    );
    performance.measure('timeline-draw', {
      start: started,
      end: performance.now(),
      detail: { frames: times.length, envelope: rebuilt },
    });
  }, [size, ratio, view, times, scores, shownThreshold, events, flagTimes, cursorMs, hover, axis]);

  useLayoutEffect(() => {
    const canvas = miniRef.current;
    if (!canvas || !zoomed || size.width === 0) return;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(22 * ratio);
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    if (context)
      drawMinimap(context, width, height, envelope(times, scores, full, Math.floor(width / ratio)), full, view, ratio);
    // full derives from times
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [zoomed, size, ratio, times, scores, view]);

  const msAt = useCallback(
    (clientX: number) => {
      const rect = plotRef.current?.getBoundingClientRect();
      if (!rect) return 0;
      return view.startMs + ((clientX - rect.left) / rect.width) * (view.endMs - view.startMs);
    },
    [view],
  );
  // Dragging moves the threshold by the pointer's movement, not to the pointer: grabbing the line a few
  // pixels off does not make it jump, and Shift gives a tenth of the movement.
  const draggedThreshold = (event: React.PointerEvent, start: { startY: number; startValue: number }) => {
    const rect = plotRef.current?.getBoundingClientRect();
    if (!rect) return start.startValue;
    const perPixel = (axis.high - axis.low) / (rect.height - PLOT_STYLE.axis - PLOT_STYLE.marks);
    const moved = (start.startY - event.clientY) * perPixel * (event.shiftKey ? FINE_FACTOR : 1);
    return round3(clamp01(start.startValue + moved));
  };
  const thresholdY = (rect: DOMRect) => {
    const bottom = rect.height - PLOT_STYLE.axis;
    return rect.top + bottom - ((shownThreshold - axis.low) / (axis.high - axis.low)) * (bottom - PLOT_STYLE.marks);
  };

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = plotRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const anchor = msAt(event.clientX);
      const factor = Math.exp(event.deltaY * 0.0015);
      setZoom((zoomed) => {
        const whole = fullView(times);
        const current = zoomed ?? whole;
        const minSpan = minimumSpan(times);
        const span = Math.max(minSpan, (current.endMs - current.startMs) * factor);
        const share = (anchor - current.startMs) / (current.endMs - current.startMs || 1);
        const next = clampView({ startMs: anchor - share * span, endMs: anchor - share * span + span }, whole);
        return next.endMs - next.startMs >= whole.endMs - whole.startMs - 1 ? undefined : next;
      });
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [msAt, times]);

  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (event.button !== 0 || !times.length) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const rect = event.currentTarget.getBoundingClientRect();
    if (Math.abs(event.clientY - thresholdY(rect)) <= GRAB_PX) {
      drag.current = { mode: 'threshold', startY: event.clientY, startValue: shownThreshold };
      setDragThreshold(shownThreshold);
    } else {
      drag.current = { mode: 'scrub' };
      onSeek(nearestFrame(times, msAt(event.clientX)));
    }
  };
  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const ms = msAt(event.clientX);
    const index = nearestFrame(times, ms);
    const rect = event.currentTarget.getBoundingClientRect();
    setHover({ x: event.clientX - rect.left, ms: times[index] ?? ms, index });
    event.currentTarget.style.cursor =
      drag.current?.mode === 'threshold' || Math.abs(event.clientY - thresholdY(rect)) <= GRAB_PX
        ? 'ns-resize'
        : 'crosshair';
    if (drag.current?.mode === 'scrub') onSeek(index);
    else if (drag.current?.mode === 'threshold') {
      const value = draggedThreshold(event, drag.current);
      setDragThreshold(value);
      onThreshold(value, false);
    }
  };
  const onPointerUp = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (drag.current?.mode === 'threshold') onThreshold(draggedThreshold(event, drag.current), true);
    drag.current = undefined;
    setDragThreshold(undefined);
  };

  const panTo = (clientX: number) => {
    const canvas = miniRef.current;
    if (!canvas) return;
    const rect = canvas.getBoundingClientRect();
    const center = full.startMs + ((clientX - rect.left) / rect.width) * (full.endMs - full.startMs);
    setZoom((current) => {
      if (!current) return current;
      const span = current.endMs - current.startMs;
      return clampView({ startMs: center - span / 2, endMs: center + span / 2 }, full);
    });
  };

  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-plot" ref={wrapRef}>
        <canvas
          ref={plotRef}
          data-testid="timeline-canvas"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onPointerLeave={() => setHover(undefined)}
          onDoubleClick={() => setZoom(undefined)}
        />
        {hover && (
          <div className="timeline-tip" style={{ left: Math.min(hover.x + 10, Math.max(0, size.width - 150)) }}>
            {formatTime(hover.ms)} · frame {hover.index} · score {formatScore(scores[hover.index] ?? 0)}
          </div>
        )}
      </div>
      {zoomed && (
        <div className="timeline-mini">
          <canvas
            ref={miniRef}
            data-testid="timeline-minimap"
            onPointerDown={(event) => {
              event.currentTarget.setPointerCapture(event.pointerId);
              drag.current = { mode: 'pan' };
              panTo(event.clientX);
            }}
            onPointerMove={(event) => drag.current?.mode === 'pan' && panTo(event.clientX)}
            onPointerUp={() => (drag.current = undefined)}
          />
          <button
            className="fit"
            onClick={() => setZoom(undefined)}
            title="Show the whole drive (double-click the plot)"
          >
            Fit
          </button>
        </div>
      )}
    </div>
  );
}

/** The playing time from a playback's store (session/usePlayback.ts); undefined when paused or none. */
export function usePlayheadMs(playhead: ValueStore<number> | undefined): number | undefined {
  return useSyncExternalStore(playhead?.subscribe ?? noSubscription, playhead?.get ?? noValue);
}

const noSubscription = () => () => undefined;
const noValue = () => undefined;

function fullView(times: ArrayLike<number>): TimeView {
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? first + 1000;
  const pad = Math.max(1, (last - first) * 0.005);
  return { startMs: first - pad, endMs: last + pad };
}

function minimumSpan(times: ArrayLike<number>): number {
  const average = times.length > 1 ? ((times[times.length - 1] ?? 0) - (times[0] ?? 0)) / (times.length - 1) : 1000;
  return Math.max(1, average * 20);
}

function clampView(view: TimeView, full: TimeView): TimeView {
  const span = Math.min(view.endMs - view.startMs, full.endMs - full.startMs);
  const startMs = Math.min(Math.max(view.startMs, full.startMs), full.endMs - span);
  return { startMs, endMs: startMs + span };
}

function clamp01(value: number): number {
  return Math.max(0, Math.min(1, value));
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
