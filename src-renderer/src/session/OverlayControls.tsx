import { RangeField } from '../ui/RangeField';
import type { OverlaySettings } from './FrameViewer';

/** What a frame viewer shows when a screen opens: every layer, at about half opacity. */
export const DEFAULT_OVERLAYS: OverlaySettings = { classes: true, heat: true, outline: true, opacity: 0.55 };

/** The overlay layers' switches (C, H, O) and their opacity ([ and ]), over every frame viewer on screen. */
export function OverlayControls({
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
