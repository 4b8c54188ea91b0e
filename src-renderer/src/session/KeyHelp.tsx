import { useEffect } from 'react';

export const keyBindings: Array<[string, string]> = [
  ['Space', 'Play / pause at the chosen speed'],
  ['J / K / L', 'Play backward / pause / play forward (press again: faster, up to 4x)'],
  ['← / →', 'Previous / next frame'],
  ['Shift + ← / →', '10 frames back / forward'],
  ['Alt + ← / →', '10 seconds back / forward'],
  ['N / P', 'Next / previous event'],
  ['Home / End', 'First / last frame'],
  ['F', 'Flag the frame on screen'],
  ['C / H / O', 'Toggle class colours / OOD heat map / unknown regions (outline and boxes)'],
  ['[ / ]', 'Overlay opacity down / up'],
  ['Wheel on timeline', 'Zoom around the pointer (double-click: whole drive)'],
  ['Wheel on frame', 'Zoom the frame; drag (middle button, or left when not painting) pans; 0 fits'],
  ['Drag red line', 'Move the threshold (Shift: finer); events are recomputed on release'],
  ['?', 'This list'],
  ['Esc', 'Close a dialog'],
];

export function KeyHelp({ onClose }: { onClose: () => void }) {
  useEffect(() => {
    const close = (event: KeyboardEvent) => (event.key === 'Escape' || event.key === '?') && onClose();
    window.addEventListener('keydown', close);
    return () => window.removeEventListener('keydown', close);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className="modal keys" data-testid="key-help" onMouseDown={(event) => event.stopPropagation()}>
        <h3>Keyboard</h3>
        <table>
          <tbody>
            {keyBindings.map(([keys, action]) => (
              <tr key={keys}>
                <td>
                  <kbd>{keys}</kbd>
                </td>
                <td>{action}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="modal-actions">
          <button className="primary" onClick={onClose} autoFocus>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
