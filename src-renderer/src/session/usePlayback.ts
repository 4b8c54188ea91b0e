import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { frameAtOrBefore, stepSpeed } from './navigation';
import { nearestFrame } from './timeline-draw';
import { ValueStore } from './context';
import type { VideoClock } from './video-clock';

export interface Playback {
  playing: boolean;
  /** 0.25 to 4: multiples of real time. */
  speed: number;
  direction: 1 | -1;
  /**
   * Drive time of the playhead while playing (between analysed frames too), undefined when paused: a store, so
   * that only what draws it (timeline, HUD) follows it, not the whole session screen.
   */
  playhead: ValueStore<number>;
  toggle: () => void;
  /** Stops, showing the analysed frame nearest to where playback was. */
  pause: () => void;
  /** J / L: start in that direction, or go faster if already playing that way (slower the other way). */
  shuttle: (direction: 1 | -1) => void;
  setSpeed: (speed: number) => void;
}

/** How often the playhead's time is published while playing: the timeline and HUD follow at this pace. */
const PLAYHEAD_MS = 40;

/**
 * Plays the drive at its own rate. Forward, the source video is the clock when the browser can play it: its
 * frames are shown between the analysed ones, under the last analysed frame's overlays. Otherwise (backward,
 * image folders, a codec the browser lacks) the clock is real time times the speed, and the frame shown is the
 * analysed frame at or before it; frames the viewer cannot load in time are passed over.
 */
export function usePlayback(
  times: ArrayLike<number>,
  frameIndex: number,
  seek: (index: number) => void,
  video?: VideoClock,
): Playback {
  const [state, setState] = useState({ playing: false, speed: 1, direction: 1 as 1 | -1 });
  const [playhead] = useState(() => new ValueStore<number>());
  const clock = useRef({ wallMs: 0, driveMs: 0, byVideo: false });
  /** Where playback is, in drive time: read on pause, speed changes and turns. */
  const driveMs = useRef(0);
  const playing = useRef(false);
  const position = useRef(frameIndex);
  useLayoutEffect(() => {
    position.current = frameIndex;
  }, [frameIndex]);

  const start = useCallback(
    (next: { speed: number; direction: 1 | -1 }, fromMs?: number) => {
      let from = fromMs;
      if (from === undefined) {
        // From the end of the drive (its start, playing backward) playback begins again at the other end.
        const last = times.length - 1;
        const atEnd = next.direction > 0 ? position.current >= last : position.current <= 0;
        const index = atEnd ? (next.direction > 0 ? 0 : last) : position.current;
        if (index !== position.current) seek(index);
        from = times[index] ?? 0;
      }
      const byVideo = next.direction > 0 && (video?.play(from, next.speed) ?? false);
      if (!byVideo) video?.stop();
      clock.current = { wallMs: performance.now(), driveMs: from, byVideo };
      driveMs.current = from;
      playing.current = true;
      setState({ playing: true, ...next });
    },
    [times, seek, video],
  );

  const pause = useCallback(() => {
    if (!playing.current) return;
    playing.current = false;
    video?.stop();
    seek(nearestFrame(times, driveMs.current));
    playhead.set(undefined);
    setState((current) => ({ ...current, playing: false }));
  }, [times, seek, video, playhead]);

  useEffect(() => {
    if (!state.playing || times.length === 0) return;
    let shownAt = 0;
    let frame = requestAnimationFrame(function tick(now) {
      const ms = currentDriveMs(now);
      driveMs.current = ms;
      const index = frameAtOrBefore(times, ms);
      if (index !== position.current) seek(index);
      if (now - shownAt >= PLAYHEAD_MS) {
        shownAt = now;
        playhead.set(ms);
      }
      const ended = state.direction > 0 ? ms >= times[times.length - 1]! || (video?.ended() ?? false) : ms <= times[0]!;
      if (ended) pause();
      else frame = requestAnimationFrame(tick);
    });
    /** The video's time while it plays; real time times the speed otherwise, and from where a failed video was. */
    function currentDriveMs(now: number): number {
      if (clock.current.byVideo) {
        const fromVideo = video?.timeMs();
        if (fromVideo !== undefined) return fromVideo;
        clock.current = { wallMs: now, driveMs: driveMs.current, byVideo: false };
      }
      return clock.current.driveMs + (now - clock.current.wallMs) * state.speed * state.direction;
    }
    return () => cancelAnimationFrame(frame);
  }, [state, times, seek, pause, video, playhead]);

  /** A new speed the same way: the video changes its rate; the wall clock restarts from where playback is. */
  const changeSpeed = (speed: number) => {
    if (clock.current.byVideo) {
      video?.setRate(speed);
      setState((current) => ({ ...current, speed }));
    } else start({ speed, direction: state.direction }, driveMs.current);
  };

  return {
    ...state,
    playhead,
    pause,
    toggle: () => (state.playing ? pause() : start({ speed: state.speed, direction: 1 })),
    shuttle: (direction) => {
      if (!state.playing) return start({ speed: 1, direction });
      const faster = direction === state.direction;
      const speed = stepSpeed(state.speed, faster ? 1 : -1);
      // Slowing below the slowest speed the other way turns around, as J after L does in editors.
      if (!faster && speed === state.speed) return start({ speed: 1, direction }, driveMs.current);
      changeSpeed(speed);
    },
    setSpeed: (speed) => (state.playing ? changeSpeed(speed) : setState({ ...state, speed })),
  };
}
