import { useEffect } from 'react';

export const keyBindings: Array<[string, string]> = [
  ['Space', 'Play / pause'],
  ['← / →', 'Previous / next frame'],
  ['Shift + ← / →', '10 frames back / forward'],
  ['N / P', 'Next / previous event'],
  ['Home / End', 'First / last frame'],
  ['F', 'Flag the frame on screen'],
  ['C / H / O', 'Toggle class colours / OOD heat map / unknown regions (outline and boxes)'],
  ['[ / ]', 'Overlay opacity down / up'],
  ['Wheel on timeline', 'Zoom around the pointer (double-click: whole drive)'],
  ['Drag red line', 'Move the threshold; events are recomputed'],
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
