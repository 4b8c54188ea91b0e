import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { frameAtOrBefore, stepSpeed } from './navigation';

export interface Playback {
  playing: boolean;
  /** 0.25 to 4: multiples of real time. */
  speed: number;
  direction: 1 | -1;
  toggle: () => void;
  pause: () => void;
  /** J / L: start in that direction, or go faster if already playing that way (slower the other way). */
  shuttle: (direction: 1 | -1) => void;
  setSpeed: (speed: number) => void;
}

/**
 * Plays the drive against a clock: the playhead's time is real time times the speed since play began, and the
 * frame shown is the analysed frame at or before it. Frames the viewer cannot load in time are passed over
 * instead of slowing playback down, so a drive plays at its own rate however fast frames arrive.
 */
export function usePlayback(times: ArrayLike<number>, frameIndex: number, seek: (index: number) => void): Playback {
  const [state, setState] = useState({ playing: false, speed: 1, direction: 1 as 1 | -1 });
  const origin = useRef({ wallMs: 0, driveMs: 0 });
  const position = useRef(frameIndex);
  useLayoutEffect(() => {
    position.current = frameIndex;
  }, [frameIndex]);

  const start = useCallback(
    (next: { speed: number; direction: 1 | -1 }) => {
      // From the end of the drive (its start, playing backward) playback begins again at the other end.
      const last = times.length - 1;
      const atEnd = next.direction > 0 ? position.current >= last : position.current <= 0;
      const from = atEnd ? (next.direction > 0 ? 0 : last) : position.current;
      if (from !== position.current) seek(from);
      origin.current = { wallMs: performance.now(), driveMs: times[from] ?? 0 };
      setState({ playing: true, ...next });
    },
    [times, seek],
  );

  useEffect(() => {
    if (!state.playing || times.length === 0) return;
    let frame = requestAnimationFrame(function tick(now) {
      const driveMs = origin.current.driveMs + (now - origin.current.wallMs) * state.speed * state.direction;
      const index = frameAtOrBefore(times, driveMs);
      if (index !== position.current) seek(index);
      const ended = state.direction > 0 ? driveMs >= times[times.length - 1]! : driveMs <= times[0]!;
      if (ended) setState((current) => ({ ...current, playing: false }));
      else frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [state, times, seek]);

  const pause = useCallback(() => setState((current) => ({ ...current, playing: false })), []);
  return {
    ...state,
    pause,
    toggle: () => (state.playing ? pause() : start({ speed: state.speed, direction: 1 })),
    shuttle: (direction) => {
      if (!state.playing) return start({ speed: 1, direction });
      const faster = direction === state.direction;
      const speed = stepSpeed(state.speed, faster ? 1 : -1);
      // Slowing below the slowest speed the other way turns around, as J after L does in editors.
      if (!faster && speed === state.speed) return start({ speed: 1, direction });
      start({ speed, direction: state.direction });
    },
    setSpeed: (speed) => (state.playing ? start({ speed, direction: state.direction }) : setState({ ...state, speed })),
  };
}
