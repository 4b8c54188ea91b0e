import type { SourceFile } from '../../../src-shared/contract/index';
import { driveTimeOf, sourceAt, whyNotPlayable } from './source-video';

export interface VideoClockState {
  /** 'unknown' until the first source's header is read; 'unplayable' falls back to the analysed frames. */
  status: 'unknown' | 'playable' | 'unplayable';
  /** Why the source cannot be played, in full: the note's tooltip. */
  note?: string;
  /** The same in a few words, shown beside the play button. */
  label?: string;
  /** The video is on screen (playing forward, its first frame decoded). */
  showing: boolean;
}

/**
 * Plays a session's source videos in one <video> element, one after another, and reads the drive time off
 * it: while it plays, the video is the clock. The element is the browser's own player, fed with byte ranges
 * from the media route (mediaPaths.source). A source the browser cannot decode (codec, container) makes the
 * whole session fall back to stepping through analysed frames, with a note saying so.
 */
export class VideoClock {
  private element: HTMLVideoElement | null = null;
  private loaded = -1;
  private playing = false;
  private finished = false;
  private state: VideoClockState;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly sources: readonly SourceFile[],
    private readonly urlOf: (position: number) => string,
  ) {
    const note = whyNotPlayable(sources);
    this.state = note
      ? { status: 'unplayable', note, label: 'Analysed frames only: no video', showing: false }
      : { status: 'unknown', showing: false };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get = (): VideoClockState => this.state;

  /** The ref callback of the <video> element: it reads the first source's header at once, to know early. */
  attach = (element: HTMLVideoElement | null): void => {
    if (this.element === element) return;
    this.element?.removeEventListener('error', this.onError);
    this.element?.removeEventListener('loadedmetadata', this.onMetadata);
    this.element?.removeEventListener('playing', this.onPlaying);
    this.element?.removeEventListener('ended', this.onEnded);
    this.element = element;
    this.loaded = -1;
    this.playing = false;
    this.update({ showing: false });
    if (!element || this.state.status === 'unplayable') return;
    element.addEventListener('error', this.onError);
    element.addEventListener('loadedmetadata', this.onMetadata);
    element.addEventListener('playing', this.onPlaying);
    element.addEventListener('ended', this.onEnded);
    this.load(0);
  };

  /** Plays from drive time `driveMs` at `rate` times real time; false when the video cannot (see note). */
  play(driveMs: number, rate: number): boolean {
    const element = this.element;
    if (!element || this.state.status === 'unplayable') return false;
    const point = sourceAt(this.sources, driveMs);
    this.load(point.position);
    element.currentTime = point.seconds;
    element.playbackRate = rate;
    this.playing = true;
    this.finished = false;
    this.resume();
    return true;
  }

  setRate(rate: number): void {
    if (this.element) this.element.playbackRate = rate;
  }

  /** The drive time the video shows; undefined when it is not playing (paused, failed). */
  timeMs(): number | undefined {
    if (!this.playing || !this.element) return undefined;
    return driveTimeOf(this.sources, { position: this.loaded, seconds: this.element.currentTime });
  }

  /** The last source played to its end. */
  ended(): boolean {
    return this.finished;
  }

  stop(): void {
    this.playing = false;
    this.element?.pause();
    this.update({ showing: false });
  }

  private load(position: number): void {
    if (!this.element || position === this.loaded) return;
    this.loaded = position;
    this.element.src = this.urlOf(position);
  }

  private resume(): void {
    // play() is refused (AbortError) when a new src or a pause interrupts it: the 'error' event reports
    // what really fails.
    this.element?.play().catch(() => undefined);
  }

  private readonly onMetadata = () => {
    if (this.state.status !== 'unknown') return;
    if (this.element && this.element.videoWidth > 0) this.update({ status: 'playable' });
    else this.fail('it holds no picture this window can show');
  };

  private readonly onPlaying = () => {
    if (this.playing) this.update({ showing: true });
  };

  private readonly onEnded = () => {
    if (!this.playing) return;
    if (this.loaded + 1 >= this.sources.length) return void (this.finished = true);
    this.load(this.loaded + 1);
    this.resume();
  };

  private readonly onError = () => {
    const error = this.element?.error;
    this.fail(error?.message || `media error ${error?.code ?? 'unknown'}`);
  };

  private fail(reason: string): void {
    const source = this.sources[Math.max(0, this.loaded)];
    const codec = source?.codec ? ` (${source.codec})` : '';
    this.playing = false;
    this.update({
      status: 'unplayable',
      showing: false,
      note: `This window cannot play the source video${codec}: ${reason}. Playback steps through the analysed frames.`,
      label: `Analysed frames only: ${source?.codec ?? 'the video'} cannot be played here`,
    });
  }

  private update(change: Partial<VideoClockState>): void {
    const next = { ...this.state, ...change };
    if (next.status === this.state.status && next.showing === this.state.showing && next.note === this.state.note)
      return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
