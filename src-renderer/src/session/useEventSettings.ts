import { useCallback, useState } from 'react';
import { useApi } from '../api/context';
import { useGuarded } from '../ui/toasts';
import type { EventState } from './useSessionData';

export interface EventSettingsControl {
  /** The stored threshold the events were computed with; the model's own until one is stored. */
  threshold: number;
  /** The threshold while the line is dragged or typed, before it is stored. */
  draftThreshold?: number;
  /** What the screen shows in use: the draft while there is one, else the stored threshold. */
  shownThreshold: number;
  /** A threshold being chosen (`commit` false) or chosen: the events are recomputed with it and stored. */
  commitThreshold: (threshold: number, commit: boolean) => void;
  cancelDraft: () => void;
}

/** The event threshold of the analysis on screen: dragged as a draft, then stored with the events it gives. */
export function useEventSettings(
  analysis: { id: number; threshold: number } | undefined,
  eventState: EventState | undefined,
  setEventState: (state: EventState) => void,
): EventSettingsControl {
  const api = useApi();
  const guarded = useGuarded();
  const analysisId = analysis?.id;
  const [draftThreshold, setDraftThreshold] = useState<number>();
  const commitThreshold = useCallback(
    (threshold: number, commit: boolean) => {
      setDraftThreshold(commit ? undefined : threshold);
      if (!commit || analysisId === undefined || !eventState) return;
      void guarded(async () =>
        setEventState(await api.call('events.list', { analysisId, settings: { ...eventState.settings, threshold } })),
      );
    },
    [api, guarded, analysisId, eventState, setEventState],
  );
  const cancelDraft = useCallback(() => setDraftThreshold(undefined), []);
  const threshold = eventState?.settings.threshold ?? analysis?.threshold ?? 0;
  return { threshold, draftThreshold, shownThreshold: draftThreshold ?? threshold, commitThreshold, cancelDraft };
}
