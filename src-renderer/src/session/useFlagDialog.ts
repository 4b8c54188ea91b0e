import { useCallback, useState } from 'react';
import type { EventInfo, Flag } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useGuarded, useToast } from '../ui/toasts';
import type { FlagTarget } from './FlagDialog';

export interface FlagDialogControl {
  /** What the open flag dialog flags; undefined while it is closed. */
  target?: FlagTarget;
  /** Opens the dialog for a frame (default: the one on screen) or a whole event. */
  request: (target?: { frameIndex?: number; eventId?: number }) => void;
  save: (category: Flag['category'], note: string) => Promise<void>;
  close: () => void;
}

/** The flag dialog: which frame or event it flags, and storing the flag. */
export function useFlagDialog(options: {
  analysisId: number | undefined;
  /** Times of the timeline on screen, undefined before one is in. */
  timesMs: ArrayLike<number> | undefined;
  events: EventInfo[] | undefined;
  frameIndex: number;
  /** Called as the dialog opens: playback stops on the frame being flagged. */
  onOpen: () => void;
  onSaved: () => Promise<unknown>;
}): FlagDialogControl {
  const { analysisId, timesMs, events, frameIndex, onOpen, onSaved } = options;
  const api = useApi();
  const guarded = useGuarded();
  const toast = useToast();
  const [target, setTarget] = useState<FlagTarget>();

  const request = useCallback(
    (wanted?: { frameIndex?: number; eventId?: number }) => {
      if (!timesMs) return;
      const event =
        wanted?.eventId !== undefined ? events?.find((candidate) => candidate.id === wanted.eventId) : undefined;
      const index = event?.peakFrame ?? wanted?.frameIndex ?? frameIndex;
      onOpen();
      setTarget({
        eventId: event?.id,
        frameIndex: event ? undefined : index,
        timeMs: event?.peakMs ?? timesMs[index] ?? 0,
        label: event ? `event (${((event.endMs - event.startMs) / 1000).toFixed(1)} s)` : `frame ${index}`,
      });
    },
    [timesMs, events, frameIndex, onOpen],
  );

  const save = async (category: Flag['category'], note: string) => {
    if (!target || analysisId === undefined) return;
    setTarget(undefined);
    const flag = await guarded(() =>
      api.call('flags.add', { analysisId, frameIndex: target.frameIndex, eventId: target.eventId, category, note }),
    );
    if (flag) {
      toast('info', `Flagged frame ${flag.frameIndex} as ${flag.category}`);
      await onSaved();
    }
  };

  return { target, request, save, close: () => setTarget(undefined) };
}
