import { useEffect, useRef, useState } from 'react';
import { decodeRle } from '../../../src-shared/contract/index';
import { hexToRgb, type ShotDraft, type TeachingDraft } from './draft';
import { fillPolygon, strokeSegment } from './mask-editor';

interface Props {
  draft: TeachingDraft;
  shot: ShotDraft;
  /** Wand click at mask coordinates; the caller asks the main side for the region. */
  onWand: (x: number, y: number) => void;
}

/** Opacity of the marked pixels over the frame. */
const MASK_ALPHA = 0.55;

/**
 * The mask of a shot frame at the model's output size, as a transparent layer over the frame in the main
 * viewer (stretched to the frame, so it zooms and pans with it). Brush/eraser paint while the left button is
 * down (one undo step per stroke); polygon: click vertices, double-click or Enter closes it, Escape drops it;
 * wand: click. `[` and `]` resize the brush while the pointer is over the frame.
 */
export function MaskCanvas({ draft, shot, onWand }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [polygon, setPolygon] = useState<[number, number][]>([]);
  const [cursor, setCursor] = useState<[number, number]>();
  const stroke = useRef<[number, number] | undefined>(undefined);
  const hovering = useRef(false);
  const { width, height } = shot.history.size;

  const closePolygon = () => {
    if (polygon.length < 3) return;
    draft.change(() => {
      shot.history.checkpoint();
      fillPolygon(shot.history.mask, shot.history.size, polygon, 1);
    });
    setPolygon([]);
  };

  // Brush size and polygon keys, taken before the session view's own [ ] (overlay opacity) while hovering here.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!hovering.current) return;
      if (event.key === '[' || event.key === ']') {
        draft.change(
          (d) =>
            (d.brushRadius = Math.max(
              1,
              Math.min(60, d.brushRadius + (event.key === ']' ? 1 : -1) * Math.max(1, Math.round(d.brushRadius / 5))),
            )),
          true,
        );
      } else if (event.key === 'Enter' && polygon.length >= 3) {
        closePolygon();
      } else if (event.key === 'Escape') {
        setPolygon([]);
      } else return;
      event.preventDefault();
      event.stopImmediatePropagation();
    };
    window.addEventListener('keydown', onKey, { capture: true });
    return () => window.removeEventListener('keydown', onKey, { capture: true });
  });

  useEffect(() => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const layer = draft.layer;
    const preview = draft.preview?.shots.find(
      (entry) => 'analysisId' in entry.frame && entry.frame.frameIndex === shot.frameIndex,
    );
    const bits =
      layer === 'mask' || !preview
        ? shot.history.mask
        : decodeRle(layer === 'before' ? preview.unknownBefore : preview.taughtAfter);
    const [r, g, b] = layer === 'before' ? [255, 40, 40] : hexToRgb(draft.color);
    const overlay = new ImageData(width, height);
    for (let p = 0; p < bits.length; p++) {
      if (bits[p]) overlay.data.set([r, g, b, 255 * MASK_ALPHA], p * 4);
    }
    context.putImageData(overlay, 0, 0);
    if (polygon.length) {
      context.strokeStyle = '#fff';
      context.lineWidth = 1;
      context.beginPath();
      polygon.forEach(([x, y], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
      if (cursor) context.lineTo(cursor[0], cursor[1]);
      context.stroke();
    }
    if (cursor && (draft.tool === 'brush' || draft.tool === 'eraser')) {
      context.strokeStyle = draft.tool === 'brush' ? '#fff' : '#f66';
      context.beginPath();
      context.arc(cursor[0], cursor[1], draft.brushRadius, 0, Math.PI * 2);
      context.stroke();
    }
  });

  const toMask = (event: React.PointerEvent | React.MouseEvent): [number, number] => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * width, ((event.clientY - rect.top) / rect.height) * height];
  };

  const paint = (to: [number, number]) => {
    const from = stroke.current ?? to;
    strokeSegment(shot.history.mask, shot.history.size, from, to, draft.brushRadius, draft.tool === 'brush' ? 1 : 0);
    stroke.current = to;
    draft.change(() => {});
  };

  return (
    <canvas
      ref={canvasRef}
      className={`layer pixelated mask-canvas tool-${draft.tool}`}
      width={width}
      height={height}
      data-testid="mask-canvas"
      onPointerEnter={() => (hovering.current = true)}
      onPointerLeave={() => {
        hovering.current = false;
        stroke.current = undefined;
        setCursor(undefined);
      }}
      onPointerDown={(event) => {
        // The middle button pans the viewer; only the left one marks.
        if (event.button !== 0) return;
        const point = toMask(event);
        if (draft.tool === 'wand') return onWand(Math.floor(point[0]), Math.floor(point[1]));
        if (draft.tool === 'polygon') return setPolygon((current) => [...current, point]);
        event.currentTarget.setPointerCapture(event.pointerId);
        shot.history.checkpoint();
        stroke.current = undefined;
        paint(point);
      }}
      onPointerMove={(event) => {
        const point = toMask(event);
        setCursor(point);
        if (stroke.current && event.buttons & 1) paint(point);
      }}
      onPointerUp={() => (stroke.current = undefined)}
      onDoubleClick={() => draft.tool === 'polygon' && closePolygon()}
    />
  );
}
