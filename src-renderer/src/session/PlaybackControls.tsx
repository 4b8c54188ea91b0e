import { formatTime } from '../ui/format';
import type { ValueStore } from './context';
import { SPEEDS } from './navigation';
import { usePlayheadMs } from './Timeline';
import type { Playback } from './usePlayback';
import type { VideoClockState } from './video-clock';

/**
 * Play / pause, the speed, and a note when playback cannot show the source video (its codec, an image
 * folder, playing backward): then it steps through the analysed frames, and says so.
 */
export function PlaybackControls({ playback, video }: { playback: Playback; video: VideoClockState | undefined }) {
  const backward = playback.playing && playback.direction < 0;
  const note =
    video?.status === 'unplayable'
      ? { label: video.label, title: video.note }
      : backward
        ? { label: 'Backward: analysed frames only', title: 'Video cannot play backward: analysed frames only.' }
        : undefined;
  return (
    <>
      <button
        className={playback.playing ? 'on' : ''}
        onClick={playback.toggle}
        title="Play / pause (Space; J / K / L: backward, pause, forward)"
        data-testid="play"
      >
        {playback.playing ? '❚❚' : '▶'}
      </button>
      <select
        value={playback.speed}
        onChange={(event) => playback.setSpeed(Number(event.target.value))}
        title="Playback speed (J / L change it while playing)"
        data-testid="play-speed"
        data-playing={playback.playing ? playback.direction * playback.speed : 0}
      >
        {SPEEDS.map((speed) => (
          <option key={speed} value={speed}>
            {speed}×
          </option>
        ))}
      </select>
      {note && (
        <span className="playback-note muted" title={note.title} data-testid="playback-note">
          {note.label}
        </span>
      )}
    </>
  );
}

/** The HUD's time: the playing time while playing, the analysed frame's time otherwise. */
export function PlayheadTime({ playhead, frameMs }: { playhead: ValueStore<number>; frameMs: number }) {
  return <span data-testid="hud-time">{formatTime(usePlayheadMs(playhead) ?? frameMs)}</span>;
}
