import { useCallback, useEffect, useRef, useState, type CSSProperties, type PointerEvent } from 'react';

export interface ZoomPan {
  scale: number;
  style: CSSProperties;
  handlers: {
    onWheel: (event: React.WheelEvent<HTMLElement>) => void;
    onPointerDown: (event: PointerEvent<HTMLElement>) => void;
    onPointerMove: (event: PointerEvent<HTMLElement>) => void;
    onPointerUp: (event: PointerEvent<HTMLElement>) => void;
  };
  reset: () => void;
}

const MAX_SCALE = 8;

/**
 * Zoom (wheel, around the pointer, 1x to 8x) and pan (drag with the middle button, or the left one when no
 * tool takes it) of the frame inside its box; 0 fits it again. The content is moved by a CSS transform, so
 * every layer, and a tool's pointer maths through getBoundingClientRect, follow without knowing of it.
 */
export function useZoomPan(box: { width: number; height: number }, toolActive: boolean): ZoomPan {
  const [view, setView] = useState({ scale: 1, x: 0, y: 0 });
  const drag = useRef<{ pointerX: number; pointerY: number; x: number; y: number } | undefined>(undefined);
  const clamp = useCallback(
    (next: { scale: number; x: number; y: number }) => {
      const scale = Math.max(1, Math.min(MAX_SCALE, next.scale));
      const limit = (offset: number, size: number) => Math.max(size * (1 - scale), Math.min(0, offset));
      return { scale, x: limit(next.x, box.width), y: limit(next.y, box.height) };
    },
    [box.width, box.height],
  );
  const reset = useCallback(() => setView({ scale: 1, x: 0, y: 0 }), []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '0' || (event.target as HTMLElement | null)?.closest('input, textarea, select')) return;
      reset();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [reset]);

  const onWheel = (event: React.WheelEvent<HTMLElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const [px, py] = [event.clientX - rect.left, event.clientY - rect.top];
    setView((current) => {
      const scale = Math.max(1, Math.min(MAX_SCALE, current.scale * Math.exp(-event.deltaY * 0.0015)));
      // The content point under the pointer stays under it.
      const [cx, cy] = [(px - current.x) / current.scale, (py - current.y) / current.scale];
      return clamp({ scale, x: px - cx * scale, y: py - cy * scale });
    });
  };
  const onPointerDown = (event: PointerEvent<HTMLElement>) => {
    const pans = event.button === 1 || (event.button === 0 && !toolActive && view.scale > 1);
    if (!pans) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointerX: event.clientX, pointerY: event.clientY, x: view.x, y: view.y };
  };
  const onPointerMove = (event: PointerEvent<HTMLElement>) => {
    const start = drag.current;
    if (!start) return;
    setView((current) =>
      clamp({ ...current, x: start.x + event.clientX - start.pointerX, y: start.y + event.clientY - start.pointerY }),
    );
  };
  const onPointerUp = () => (drag.current = undefined);

  return {
    scale: view.scale,
    style: { transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})`, transformOrigin: '0 0' },
    handlers: { onWheel, onPointerDown, onPointerMove, onPointerUp },
    reset,
  };
}
