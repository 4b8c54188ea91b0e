import { useEffect, useState } from 'react';
import type { Timeline } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useGuarded } from '../ui/toasts';
import type { EventState } from '../session/useSessionData';

export interface ComparedAnalysis {
  /** Undefined until this analysis's own timeline and events are in. */
  timeline?: Timeline;
  eventState?: EventState;
  setEventState: (state: EventState) => void;
}

/** The timeline and stored events of one side of the compare screen, read again when the side changes. */
export function useComparedAnalysis(analysisId: number | undefined): ComparedAnalysis {
  const api = useApi();
  const guarded = useGuarded();
  const [loaded, setLoaded] = useState<{ analysisId: number; timeline: Timeline; eventState: EventState }>();
  useEffect(() => {
    if (analysisId === undefined) return;
    let current = true;
    void guarded(async () => {
      const [timeline, eventState] = await Promise.all([
        api.call('timeline.get', { analysisId }),
        api.call('events.list', { analysisId }),
      ]);
      if (current) setLoaded({ analysisId, timeline, eventState });
    });
    return () => {
      current = false;
    };
  }, [api, guarded, analysisId]);
  const mine = loaded?.analysisId === analysisId ? loaded : undefined;
  return {
    timeline: mine?.timeline,
    eventState: mine?.eventState,
    setEventState: (eventState) =>
      setLoaded((current) => (current && current.analysisId === analysisId ? { ...current, eventState } : current)),
  };
}
