import { useEffect, useLayoutEffect, useRef } from 'react';

export interface SessionKeyActions {
  togglePlay: () => void;
  /** J / K / L as in video editors: play backward (faster on each press), pause, play forward (faster). */
  shuttle: (direction: -1 | 0 | 1) => void;
  step: (delta: number) => void;
  /** Alt + arrows: a coarse step by time, in seconds. */
  stepSeconds: (seconds: number) => void;
  home: () => void;
  end: () => void;
  nextEvent: () => void;
  previousEvent: () => void;
  flag: () => void;
  help: () => void;
  toggle: (layer: 'classes' | 'heat' | 'outline') => void;
  opacity: (delta: number) => void;
}

/** Seconds that Alt + arrow moves the playhead: a stride that crosses a drive quickly at any frame rate. */
export const COARSE_STEP_SECONDS = 10;

/** The session view's keys (see KeyHelp); ignored while typing in a field or while a dialog is open. */
export function useSessionKeys(enabled: boolean, actions: SessionKeyActions): void {
  const latest = useRef(actions);
  useLayoutEffect(() => {
    latest.current = actions;
  });
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest('input:not([type=range]):not([type=checkbox]), textarea, select, [contenteditable]')) return;
      if (event.ctrlKey || event.metaKey) return;
      const act = latest.current;
      if (event.altKey) {
        if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
        act.stepSeconds((event.key === 'ArrowRight' ? 1 : -1) * COARSE_STEP_SECONDS);
        return event.preventDefault();
      }
      const stride = event.shiftKey ? 10 : 1;
      switch (event.key) {
        case ' ':
          act.togglePlay();
          break;
        case 'j':
        case 'J':
          act.shuttle(-1);
          break;
        case 'k':
        case 'K':
          act.shuttle(0);
          break;
        case 'l':
        case 'L':
          act.shuttle(1);
          break;
        case 'ArrowRight':
          act.step(stride);
          break;
        case 'ArrowLeft':
          act.step(-stride);
          break;
        case 'Home':
          act.home();
          break;
        case 'End':
          act.end();
          break;
        case 'n':
        case 'N':
          act.nextEvent();
          break;
        case 'p':
        case 'P':
          act.previousEvent();
          break;
        case 'f':
        case 'F':
          act.flag();
          break;
        case '?':
          act.help();
          break;
        case 'c':
        case 'C':
          act.toggle('classes');
          break;
        case 'h':
        case 'H':
          act.toggle('heat');
          break;
        case 'o':
        case 'O':
          act.toggle('outline');
          break;
        case '[':
          act.opacity(-0.1);
          break;
        case ']':
          act.opacity(0.1);
          break;
        default:
          return;
      }
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}
