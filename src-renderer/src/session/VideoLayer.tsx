import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { mediaPaths, type SessionInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { VideoClock, type VideoClockState } from './video-clock';

/** One VideoClock per session: the source videos played between the analysed frames. */
export function useVideoClock(session: SessionInfo | undefined): VideoClock | undefined {
  const api = useApi();
  // A session read again (same id, same files) keeps its clock, and the video playing in it.
  const key = session && JSON.stringify([session.id, session.sources]);
  return useMemo(
    () =>
      key === undefined
        ? undefined
        : new VideoClock(session!.sources, (position) => api.mediaUrl(mediaPaths.source(session!.id, position))),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the key stands for the session
    [api, key],
  );
}

export function useVideoClockState(clock: VideoClock | undefined): VideoClockState | undefined {
  const subscribe = clock?.subscribe ?? noSubscription;
  return useSyncExternalStore(subscribe, clock?.get ?? noState);
}

/**
 * The source video under the overlays while it plays forward, stretched to the frame box like the stored
 * preview it stands in for; hidden otherwise, so a paused view is always an analysed frame's own picture.
 */
export function VideoLayer({ clock }: { clock: VideoClock }) {
  const state = useVideoClockState(clock);
  const attach = useCallback((element: HTMLVideoElement | null) => clock.attach(element), [clock]);
  return (
    <video
      ref={attach}
      className="layer source-video"
      data-testid="source-video"
      data-showing={state?.showing ? 'true' : 'false'}
      style={{ visibility: state?.showing ? 'visible' : 'hidden' }}
      muted
      playsInline
      preload="metadata"
      disablePictureInPicture
    />
  );
}

const noSubscription = () => () => undefined;
const noState = () => undefined;
