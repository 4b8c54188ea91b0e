import { useEffect, useRef, useState } from 'react';
import type { EventSettings } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { formatCount } from '../ui/format';

interface Props {
  analysisId: number;
  settings: EventSettings;
  /** The threshold being dragged or typed, not yet stored. */
  draft: number | undefined;
  /** commit false: a value on the way (drawn, counted); true: store it and recompute the events. */
  onChange: (threshold: number, commit: boolean) => void;
  /** Drops the value on the way; the stored threshold stays. */
  onCancel: () => void;
}

/**
 * The event threshold as a number (three decimals; Enter or leaving the field applies it, Escape drops it),
 * and while it is dragged or typed, how many events it would give.
 */
export function ThresholdControl({ analysisId, settings, draft, onChange, onCancel }: Props) {
  const [text, setText] = useState<string>();
  const count = useEventCount(analysisId, settings, draft);
  const typed = text === undefined ? undefined : Number(text);
  const valid = typed !== undefined && text !== '' && typed >= 0 && typed <= 1;
  const finish = (apply: boolean) => {
    if (apply && valid && typed !== settings.threshold) onChange(typed, true);
    else onCancel();
    setText(undefined);
  };
  return (
    <label className="threshold-control" title="Event threshold: type it, or drag the red line (Shift: finer)">
      threshold
      <input
        type="number"
        className="narrow"
        min={0}
        max={1}
        step={0.001}
        value={text ?? (draft ?? settings.threshold).toFixed(3)}
        onChange={(event) => {
          setText(event.target.value);
          const value = Number(event.target.value);
          if (event.target.value !== '' && value >= 0 && value <= 1) onChange(value, false);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') finish(true);
          else if (event.key === 'Escape') finish(false);
        }}
        onBlur={() => text !== undefined && finish(true)}
        data-testid="threshold-input"
      />
      {draft !== undefined && (
        <span className="live-count" data-testid="threshold-live-count">
          {count && count.threshold === draft ? `→ ${formatCount(count.count, 'event')}` : '→ …'}
        </span>
      )}
    </label>
  );
}

/**
 * The events a threshold would give, asked from the main side (events.preview) as it changes: one request at
 * a time, then one for the newest value, so a fast drag never queues up requests.
 */
function useEventCount(analysisId: number, settings: EventSettings, threshold: number | undefined) {
  const api = useApi();
  const [count, setCount] = useState<{ threshold: number; count: number }>();
  const wanted = useRef(threshold);
  const busy = useRef(false);
  useEffect(() => {
    wanted.current = threshold;
    if (threshold === undefined || busy.current) return;
    busy.current = true;
    void (async () => {
      try {
        for (let asked = wanted.current; asked !== undefined;) {
          const answer = await api.call('events.preview', { analysisId, settings: { ...settings, threshold: asked } });
          setCount({ threshold: asked, count: answer.count });
          if (wanted.current === asked) break;
          asked = wanted.current;
        }
      } catch {
        // A failed count leaves the last one shown; the stored events are what committing shows.
      } finally {
        busy.current = false;
      }
    })();
  }, [api, analysisId, settings, threshold]);
  return count;
}
