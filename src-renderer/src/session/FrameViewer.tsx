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
import type { ClassInfo, SessionInfo, UnknownRegion } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import type { FrameMarks, MarkedPixels, ViewerToolSlot } from './context';
import { useZoomPan } from './useZoomPan';
import {
  boxedRegions,
  classPalette,
  PLACE_LABEL,
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
  /** Given, a click on an outlined region offers "Find more like this", which calls this. */
  onFindSimilar?: (pick: RegionPick) => void;
}

/** An outlined region the reviewer clicked: its index in the frame's region list (frames.regions). */
export interface RegionPick {
  frameIndex: number;
  regionIndex: number;
  region: UnknownRegion;
}

/** A pointer that moves less than this between press and release clicks rather than pans. */
const CLICK_SLOP_PX = 4;

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
    onFindSimilar,
  } = props;
  const api = useApi();
  const stageRef = useRef<HTMLDivElement>(null);
  const baseRef = useRef<HTMLCanvasElement>(null);
  const classRef = useRef<HTMLCanvasElement>(null);
  const heatRef = useRef<HTMLCanvasElement>(null);
  const outlineRef = useRef<HTMLCanvasElement>(null);
  const marksRef = useRef<HTMLCanvasElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const pressedAt = useRef<{ x: number; y: number }>(undefined);
  const [menu, setMenu] = useState<RegionPick & { left: number; top: number }>();
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
  /** The outlined region under the pointer (the smallest, where boxes nest), when regions can be picked. */
  const regionAt = (clientX: number, clientY: number): RegionPick | undefined => {
    const content = contentRef.current;
    if (!onFindSimilar || Tool || !shown || !content) return undefined;
    const rect = content.getBoundingClientRect();
    const { layers } = shown;
    const x = ((clientX - rect.left) / rect.width) * layers.mapWidth;
    const y = ((clientY - rect.top) / rect.height) * layers.mapHeight;
    const hit = boxedRegions(layers, regionThreshold)
      .filter((region) => x >= region.x && x < region.x + region.width && y >= region.y && y < region.y + region.height)
      .sort((a, b) => a.width * a.height - b.width * b.height)[0];
    return hit && { frameIndex: shown.index, regionIndex: layers.regions.regions.indexOf(hit), region: hit };
  };
  const pickHandlers = {
    onPointerDown: (event: React.PointerEvent<HTMLDivElement>) => {
      pressedAt.current = { x: event.clientX, y: event.clientY };
      zoom.handlers.onPointerDown(event);
    },
    onPointerMove: (event: React.PointerEvent<HTMLDivElement>) => {
      zoom.handlers.onPointerMove(event);
      if (onFindSimilar && !Tool)
        event.currentTarget.style.cursor = regionAt(event.clientX, event.clientY) ? 'pointer' : '';
    },
    onClick: (event: React.MouseEvent<HTMLDivElement>) => {
      const start = pressedAt.current;
      if (!start || Math.hypot(event.clientX - start.x, event.clientY - start.y) > CLICK_SLOP_PX) return;
      if ((event.target as HTMLElement).closest('.region-menu')) return;
      const pick = regionAt(event.clientX, event.clientY);
      const rect = event.currentTarget.getBoundingClientRect();
      setMenu(pick && { ...pick, left: event.clientX - rect.left, top: event.clientY - rect.top });
    },
  };
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
        {...pickHandlers}
      >
        <div className="frame-content" style={zoom.style} ref={contentRef}>
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
        {menu && onFindSimilar && menu.frameIndex === shown?.index && (
          <RegionMenu
            pick={menu}
            style={{ left: Math.min(menu.left, box.width - 230), top: Math.min(menu.top + 8, box.height - 70) }}
            onFind={() => {
              setMenu(undefined);
              onFindSimilar(menu);
            }}
            onClose={() => setMenu(undefined)}
          />
        )}
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

/** What can be done with a clicked region: for now, look for more like it in every drive. */
function RegionMenu({
  pick,
  style,
  onFind,
  onClose,
}: {
  pick: RegionPick;
  style: React.CSSProperties;
  onFind: () => void;
  onClose: () => void;
}) {
  return (
    <div className="region-menu" style={style} data-testid="region-menu" onPointerDown={(e) => e.stopPropagation()}>
      <div className="region-menu-head">
        <span>
          Unknown region · score {pick.region.score.toFixed(2)} · {PLACE_LABEL[pick.region.place]}
        </span>
        <button className="icon" onClick={onClose} title="Close" aria-label="Close">
          ×
        </button>
      </div>
      <button className="primary" onClick={onFind} data-testid="region-find-similar">
        Find more like this
      </button>
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
