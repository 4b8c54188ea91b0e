import { createContext, useContext, type ComponentType } from 'react';
import type {
  AnalysisInfo,
  ApiClient,
  ClassInfo,
  ClipOverlay,
  EventInfo,
  Flag,
  SessionInfo,
  Timeline,
} from '../../../src-shared/contract/index';
import type { SimilarSearch } from '../similar/search';

/**
 * What every panel of the session view can read and do. Panels added by other features (teaching, the
 * metric-space view) consume this instead of props, so the session screen does not need to know them.
 */
export interface SessionView {
  api: ApiClient;
  session: SessionInfo;
  analysis: AnalysisInfo;
  /** Class table of the analysis on screen (card classes, then taught ones), indexed by ClassInfo.index. */
  classes: ClassInfo[];
  timeline: Timeline;
  events: EventInfo[];
  flags: Flag[];
  /** Index into timeline.timesMs of the frame on screen. */
  frameIndex: number;
  seek: (frameIndex: number) => void;
  /** Opens the flag dialog for a frame (default: the one on screen) or a whole event. */
  requestFlag: (target?: { frameIndex?: number; eventId?: number }) => void;
  /** Re-reads flags, events and analyses (after a panel changed them). */
  refresh: () => void;
  /** Pixels a panel points at, drawn over the frame on screen (the metric-space view's hover and lasso). */
  marks: FrameMarks;
  /** The layer a panel paints on in the main viewer (the teaching mask). */
  viewerTool: ViewerToolSlot;
  /** The overlay layers and opacity on screen, which clips burn in as shown. */
  overlays: ClipOverlay;
  /** Searches every drive for regions like this one and shows the results ("Find more like this"). */
  findSimilar: (search: SimilarSearch) => void;
}

/** Pixels of one frame's maps to mark in the frame viewer; `focus`, if set, gets a ring. */
export interface MarkedPixels {
  frameIndex: number;
  mapWidth: number;
  mapHeight: number;
  pixels: Uint32Array;
  focus?: number;
}

/**
 * A value kept outside React state, for useSyncExternalStore: a panel sets it (on every pointer move, say), and
 * only the frame viewer, which subscribes, draws again (not the whole session screen).
 */
export class ValueStore<T> {
  private value: T | undefined;
  private readonly listeners = new Set<() => void>();

  readonly get = (): T | undefined => this.value;

  readonly set = (value: T | undefined): void => {
    this.value = value;
    for (const listener of this.listeners) listener();
  };

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

/** The pixels a panel points at (the metric-space view's hover and lasso). */
export class FrameMarks extends ValueStore<MarkedPixels> {}

/** What a viewer tool is drawn with: the analysis and the frame the viewer shows. */
export interface ViewerToolProps {
  analysisId: number;
  frameIndex: number;
}

/**
 * A panel's layer over the frame in the main viewer that takes the pointer (the teaching brush): drawn at the
 * frame's full size, zoomed and panned with it. While one is set, the left button is the tool's, not panning.
 */
export class ViewerToolSlot extends ValueStore<ComponentType<ViewerToolProps>> {}

export const SessionViewContext = createContext<SessionView | undefined>(undefined);

export function useSessionView(): SessionView {
  const view = useContext(SessionViewContext);
  if (!view) throw new Error('useSessionView outside the session screen');
  return view;
}

/** A tab in the session view's right-hand panel. */
export interface SessionPanel {
  id: string;
  title: string;
  component: ComponentType;
}
