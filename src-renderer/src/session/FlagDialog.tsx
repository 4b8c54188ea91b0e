import { useState } from 'react';
import { FlagCategory as FlagCategorySchema, type Flag } from '../../../src-shared/contract/index';

type FlagCategory = Flag['category'];
import { formatTime } from '../ui/format';

const categories = FlagCategorySchema.options;
const categoryHelp: Record<(typeof categories)[number], string> = {
  hazard: 'A real hazard on the road',
  'unknown-object': 'An object the model does not know',
  'false-alarm': 'Flagged by the model, nothing there',
  other: 'Anything else worth a second look',
};

export interface FlagTarget {
  frameIndex?: number;
  eventId?: number;
  timeMs: number;
  label: string;
}

/** Category by click or 1-4, a note, Enter saves, Escape cancels. */
export function FlagDialog({
  target,
  onSave,
  onClose,
}: {
  target: FlagTarget;
  onSave: (category: FlagCategory, note: string) => void;
  onClose: () => void;
}) {
  const [category, setCategory] = useState<FlagCategory>('hazard');
  const [note, setNote] = useState('');
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <form
        className="modal"
        data-testid="flag-dialog"
        onMouseDown={(event) => event.stopPropagation()}
        onSubmit={(event) => {
          event.preventDefault();
          onSave(category, note);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') onClose();
          const digit = Number(event.key);
          if (event.altKey && digit >= 1 && digit <= categories.length) setCategory(categories[digit - 1]!);
        }}
      >
        <h3>
          Flag {target.label} <span className="muted">at {formatTime(target.timeMs)}</span>
        </h3>
        <div className="categories">
          {categories.map((option, index) => (
            <label key={option} className={`category${category === option ? ' on' : ''}`} title={categoryHelp[option]}>
              <input
                type="radio"
                name="category"
                value={option}
                checked={category === option}
                onChange={() => setCategory(option)}
              />
              <span className={`chip chip-${option}`}>{option}</span>
              <kbd>Alt+{index + 1}</kbd>
            </label>
          ))}
        </div>
        <textarea
          autoFocus
          data-testid="flag-note"
          placeholder="What is there? (optional)"
          value={note}
          onChange={(event) => setNote(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey) {
              event.preventDefault();
              onSave(category, note);
            }
          }}
          rows={3}
          maxLength={2000}
        />
        <div className="modal-actions">
          <span className="muted small">Enter saves · Shift+Enter new line · Esc cancels</span>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="flag-save">
            Flag
          </button>
        </div>
      </form>
    </div>
  );
}
