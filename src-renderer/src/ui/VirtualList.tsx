import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

interface Props {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  /** Rows drawn beyond each edge, so a fast flick shows rows instead of blank space. */
  overscan?: number;
  /** Told which rows are visible, e.g. to fetch their page. */
  onRange?: (first: number, last: number) => void;
  testId?: string;
}

/**
 * Only the rows in view exist in the DOM, positioned inside one tall spacer; scrolling re-renders a few dozen
 * rows, whatever the count. Scroll updates are coalesced to one per animation frame.
 */
export function VirtualList({ count, rowHeight, renderRow, overscan = 6, onRange, testId }: Props) {
  const scrollerRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(0);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const scroller = scrollerRef.current;
    if (!scroller) return;
    const measure = () => setHeight(scroller.clientHeight);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(scroller);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  useLayoutEffect(() => onRange?.(first, last), [first, last, onRange]);

  const rows: ReactNode[] = [];
  for (let index = first; index < last; index++) {
    rows.push(
      <div key={index} className="vrow" style={{ transform: `translateY(${index * rowHeight}px)`, height: rowHeight }}>
        {renderRow(index)}
      </div>,
    );
  }
  return (
    <div
      className="vlist"
      ref={scrollerRef}
      data-testid={testId}
      onScroll={(event) => {
        const top = event.currentTarget.scrollTop;
        cancelAnimationFrame(frame.current);
        frame.current = requestAnimationFrame(() => setScrollTop(top));
      }}
    >
      <div className="vlist-spacer" style={{ height: count * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
