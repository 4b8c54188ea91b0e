import {
  createElement,
  type ReactNode,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { ClassInfo, SessionInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import type { FrameMarks, MarkedPixels, ViewerToolSlot } from './context';
import { useZoomPan } from './useZoomPan';
import {
  boxedRegions,
  classPalette,
  drawRegionBoxes,
  drawUnknownOutline,
  loadFrameLayers,
  paintClasses,
  paintHeat,
  type FrameLayers,
} from './frame-layers';

export interface OverlaySettings {
  classes: boolean;
  heat: boolean;
  outline: boolean;
  opacity: number;
}

interface Props {
  analysisId: number;
  frameIndex: number;
  frameCount: number;
  classes: ClassInfo[];
  overlays: OverlaySettings;
  marks: FrameMarks;
  viewerTool: ViewerToolSlot;
  /** Width / height of the footage as recorded (the model's input, and older previews, are stretched). */
  aspect: number;
  /** The event threshold in use: regions scoring at or above it are outlined and boxed (region-view.ts). */
  regionThreshold: number;
  /** Drawn over the analysed frame's picture and under its overlays: the source video while it plays. */
  underlay?: ReactNode;
}

/**
 * The frame under the cursor with its overlays, each on its own canvas, at the footage's aspect ratio: the
 * preview image, class colours at the map's own resolution (pixelated, so what is shown is what is stored),
 * the OOD heat map, at screen resolution the outline of the unknown regions that reach the event threshold, each in a
 * box labelled with its score (the best one, the frame score's, in orange), and a panel's tool (the teaching
 * mask) on top. The wheel zooms around the pointer; dragging pans. While scrubbing at most one frame loads at a time and the newest
 * wanted frame is loaded next, so the picture catches up as soon as the cursor stops.
 */
export function FrameViewer(props: Props) {
  const {
    analysisId,
    frameIndex,
    frameCount,
    classes,
    overlays,
    marks,
    viewerTool,
    aspect,
    regionThreshold,
    underlay,
  } = props;
  const api = useApi();
  const stageRef = useRef<HTMLDivElement>(null);
  const baseRef = useRef<HTMLCanvasElement>(null);
  const classRef = useRef<HTMLCanvasElement>(null);
  const heatRef = useRef<HTMLCanvasElement>(null);
  const outlineRef = useRef<HTMLCanvasElement>(null);
  const marksRef = useRef<HTMLCanvasElement>(null);
  const marked = useSyncExternalStore(marks.subscribe, marks.get);
  const Tool = useSyncExternalStore(viewerTool.subscribe, viewerTool.get);
  const [shown, setShown] = useState<{ index: number; layers: FrameLayers }>();
  const [failure, setFailure] = useState<string>();
  const [box, setBox] = useState({ width: 0, height: 0 });
  const wanted = useRef(frameIndex);
  const inFlight = useRef(0);
  const issued = useRef(0);
  const latestShown = useRef(0);
  const alive = useRef(true);
  const palette = useMemo(() => classPalette(classes), [classes]);

  // At most two loads in flight: the newest wanted frame starts at once even while an older one finishes,
  // so when the cursor stops its frame is one round trip away; an older answer never replaces a newer one.
  useEffect(() => {
    wanted.current = frameIndex;
    if (inFlight.current >= 2) return;
    const pump = async () => {
      inFlight.current += 1;
      try {
        for (;;) {
          const index = wanted.current;
          const ticket = ++issued.current;
          try {
            const layers = await loadFrameLayers(api, analysisId, index);
            if (!alive.current || ticket < latestShown.current) return;
            latestShown.current = ticket;
            setShown({ index, layers });
            setFailure(undefined);
          } catch (error) {
            if (alive.current && index === wanted.current)
              setFailure(error instanceof Error ? error.message : String(error));
          }
          if (index === wanted.current) return;
        }
      } finally {
        inFlight.current -= 1;
      }
    };
    void pump();
  }, [api, analysisId, frameIndex]);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  // Warm the cache with the next frames so playback and arrow keys do not wait on the network.
  useEffect(() => {
    if (shown?.index !== frameIndex) return;
    for (let ahead = 1; ahead <= 2 && frameIndex + ahead < frameCount; ahead++) {
      loadFrameLayers(api, analysisId, frameIndex + ahead).catch(() => undefined);
    }
  }, [api, analysisId, frameIndex, frameCount, shown]);

  useLayoutEffect(() => {
    const stage = stageRef.current;
    if (!stage) return;
    const fit = () => {
      const { clientWidth, clientHeight } = stage;
      const width = Math.min(clientWidth, clientHeight * aspect);
      setBox({ width: Math.floor(width), height: Math.floor(width / aspect) });
    };
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(stage);
    return () => observer.disconnect();
  }, [aspect]);

  useLayoutEffect(() => {
    if (!shown) return;
    const { layers } = shown;
    drawBitmap(baseRef.current, layers.image);
    putImage(classRef.current, paintClasses(layers, palette));
    putImage(heatRef.current, paintHeat(layers));
    const outline = outlineRef.current;
    if (outline && box.width > 0) {
      const ratio = window.devicePixelRatio || 1;
      outline.width = Math.round(box.width * ratio);
      outline.height = Math.round(box.height * ratio);
      const context = outline.getContext('2d');
      if (context) {
        context.lineWidth = 1.6 * ratio;
        context.strokeStyle = '#00f0ff';
        context.shadowColor = 'rgba(0,0,0,0.9)';
        context.shadowBlur = 2 * ratio;
        const [scaleX, scaleY] = [outline.width / layers.mapWidth, outline.height / layers.mapHeight];
        drawUnknownOutline(context, layers, regionThreshold, scaleX, scaleY);
        drawRegionBoxes(context, layers, regionThreshold, scaleX, scaleY, ratio);
      }
    }
    performance.mark('frame-shown', { detail: { frameIndex: shown.index } });
  }, [shown, palette, box, regionThreshold]);

  useLayoutEffect(() => {
    const canvas = marksRef.current;
    if (canvas && box.width > 0) drawMarks(canvas, box, marked?.frameIndex === shown?.index ? marked : undefined);
  }, [marked, shown, box]);

  const ready = shown?.index === frameIndex;
  const zoom = useZoomPan(box, Tool !== undefined);
  return (
    <div className="viewer-stage" ref={stageRef}>
      <div
        className="frame-box"
        style={{ width: box.width, height: box.height }}
        data-testid="frame-viewer"
        data-frame-index={shown?.index ?? -1}
        data-ready={ready ? 'true' : 'false'}
        data-zoom={zoom.scale.toFixed(2)}
        data-regions-boxed={shown ? boxedRegions(shown.layers, regionThreshold).length : -1}
        {...zoom.handlers}
      >
        <div className="frame-content" style={zoom.style}>
          <canvas ref={baseRef} className="layer" data-testid="frame-image" />
          {underlay}
          <canvas
            ref={classRef}
            className="layer pixelated"
            data-testid="overlay-classes"
            style={{ opacity: overlays.classes ? overlays.opacity : 0 }}
          />
          <canvas
            ref={heatRef}
            className="layer"
            data-testid="overlay-heat"
            style={{ opacity: overlays.heat ? overlays.opacity : 0 }}
          />
          <canvas
            ref={outlineRef}
            className="layer"
            data-testid="overlay-outline"
            style={{ opacity: overlays.outline ? 1 : 0 }}
          />
          <canvas ref={marksRef} className="layer" data-testid="overlay-marks" />
          {Tool && shown && createElement(Tool, { analysisId, frameIndex: shown.index })}
        </div>
        {!ready && <div className="viewer-loading" aria-hidden />}
        {failure && <div className="viewer-message">{failure}</div>}
        {zoom.scale > 1 && (
          <button className="zoom-reset" onClick={zoom.reset} title="Fit the frame (0)" data-testid="zoom-reset">
            {Math.round(zoom.scale * 100)}% · fit
          </button>
        )}
      </div>
    </div>
  );
}

/** Marked pixels as magenta dots at screen resolution, the focus pixel inside a white ring. */
function drawMarks(canvas: HTMLCanvasElement, box: { width: number; height: number }, marked?: MarkedPixels) {
  const ratio = window.devicePixelRatio || 1;
  const [width, height] = [Math.round(box.width * ratio), Math.round(box.height * ratio)];
  // Resizing reallocates the canvas: only when the box changed, not on every pointer move.
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  const context = canvas.getContext('2d');
  if (!context) return;
  context.clearRect(0, 0, width, height);
  if (!marked) return;
  const [sx, sy] = [canvas.width / marked.mapWidth, canvas.height / marked.mapHeight];
  const dot = Math.max(2, Math.min(sx, sy));
  const at = (pixel: number): [number, number] => [
    ((pixel % marked.mapWidth) + 0.5) * sx,
    (Math.floor(pixel / marked.mapWidth) + 0.5) * sy,
  ];
  context.fillStyle = 'rgba(255, 43, 214, 0.9)';
  for (const pixel of marked.pixels) {
    const [x, y] = at(pixel);
    context.fillRect(x - dot / 2, y - dot / 2, dot, dot);
  }
  if (marked.focus === undefined) return;
  const [x, y] = at(marked.focus);
  context.lineWidth = 2 * ratio;
  context.strokeStyle = '#fff';
  context.strokeRect(x - 8 * ratio, y - 8 * ratio, 16 * ratio, 16 * ratio);
}

function drawBitmap(canvas: HTMLCanvasElement | null, bitmap: ImageBitmap) {
  if (!canvas) return;
  if (canvas.width !== bitmap.width) canvas.width = bitmap.width;
  if (canvas.height !== bitmap.height) canvas.height = bitmap.height;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
}

function putImage(canvas: HTMLCanvasElement | null, image: ImageData) {
  if (!canvas) return;
  if (canvas.width !== image.width) canvas.width = image.width;
  if (canvas.height !== image.height) canvas.height = image.height;
  canvas.getContext('2d')?.putImageData(image, 0, 0);
}

/** Width / height of the drive as recorded; the stored maps and older previews are stretched to the model. */
export function footageAspect(session: SessionInfo): number {
  return session.width > 0 && session.height > 0 ? session.width / session.height : 4 / 3;
}
