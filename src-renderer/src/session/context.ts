import { createContext, useContext, type ComponentType } from 'react';
import type {
  AnalysisInfo,
  ApiClient,
  ClassInfo,
  EventInfo,
  Flag,
  SessionInfo,
  Timeline,
} from '../../../src-shared/contract/index';

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
}

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
  /** Lower comes first; built-in panels use 10, 20, 30, 40. */
  order: number;
  component: ComponentType;
}
