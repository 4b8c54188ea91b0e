import { useState } from 'react';
import type { Flag } from '../../../src-shared/contract/index';
import { formatCount, formatTime } from '../ui/format';
import { useGuarded } from '../ui/toasts';
import { useSessionView } from './context';
import { ClipButton, rangeAround } from './ClipButton';
import { Thumb } from './Thumb';

/**
 * The flags of the analysis on screen, in drive order; notes edit in place, a click seeks. A new analysis
 * takes over the flags of the one before it, so the other analyses' copies are only counted, not listed twice.
 */
export function FlagsPanel() {
  const { api, session, analysis, events, flags, seek, frameIndex, refresh } = useSessionView();
  // A flag keeps the id of the event it was made on; events recomputed since then have new ids.
  const clipTarget = (flag: Flag) =>
    events.some((event) => event.id === flag.eventId)
      ? { eventId: flag.eventId! }
      : rangeAround(flag.timeMs, session.durationMs);
  const guarded = useGuarded();
  const sorted = flags.filter((flag) => flag.analysisId === analysis.id).sort((a, b) => a.timeMs - b.timeMs);
  const elsewhere = flags.length - sorted.length;
  const remove = (flag: Flag) =>
    void guarded(async () => {
      await api.call('flags.remove', { flagId: flag.id });
      refresh();
    });
  const saveNote = (flag: Flag, note: string) =>
    void guarded(async () => {
      await api.call('flags.update', { flagId: flag.id, note });
      refresh();
    });
  const others = elsewhere > 0 && (
    <div className="muted small flags-elsewhere">
      {formatCount(elsewhere, 'flag')} on other analyses of this session (choose one above to see them).
    </div>
  );
  if (!sorted.length) {
    return (
      <div className="empty muted" data-testid="flags-panel">
        No flags on this analysis yet. Press <kbd>F</kbd> to flag the frame on screen, or ⚑ on an event.
        {others}
      </div>
    );
  }
  return (
    <div className="flags" data-testid="flags-panel">
      {others}
      {sorted.map((flag) => (
        <div
          key={flag.id}
          className={`row flag-row${flag.frameIndex === frameIndex ? ' current' : ''}`}
          data-testid="flag-row"
          onClick={() => seek(flag.frameIndex)}
        >
          <Thumb analysisId={flag.analysisId} frameIndex={flag.frameIndex} />
          <div className="row-main">
            <div>
              <span className={`chip chip-${flag.category}`}>{flag.category}</span> {formatTime(flag.timeMs)}
              <span className="muted"> · frame {flag.frameIndex}</span>
              {flag.eventId !== null && <span className="muted"> · event</span>}
            </div>
            <NoteEditor note={flag.note} onSave={(note) => saveNote(flag, note)} />
          </div>
          <ClipButton target={clipTarget(flag)} />
          <button
            className="icon danger"
            title="Remove flag"
            aria-label="Remove flag"
            onClick={(event) => {
              event.stopPropagation();
              remove(flag);
            }}
          >
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}

function NoteEditor({ note, onSave }: { note: string; onSave: (note: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(note);
  if (!editing) {
    return (
      <div
        className={`note${note ? '' : ' muted'}`}
        onClick={(event) => {
          event.stopPropagation();
          setText(note);
          setEditing(true);
        }}
        title="Click to edit the note"
      >
        {note || 'add a note…'}
      </div>
    );
  }
  const finish = (save: boolean) => {
    setEditing(false);
    if (save && text !== note) onSave(text);
  };
  return (
    <input
      className="note-input"
      autoFocus
      value={text}
      onClick={(event) => event.stopPropagation()}
      onChange={(event) => setText(event.target.value)}
      onBlur={() => finish(true)}
      onKeyDown={(event) => {
        if (event.key === 'Enter') finish(true);
        if (event.key === 'Escape') finish(false);
      }}
    />
  );
}
