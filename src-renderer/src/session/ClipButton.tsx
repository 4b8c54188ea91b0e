import { useEffect, useState } from 'react';
import { nativeDialogs } from '../api/index';
import { formatBytes } from '../ui/format';
import { useGuarded, useToast } from '../ui/toasts';
import { useSessionView } from './context';

/** Context kept around a flagged frame that belongs to no event, each side. */
const FLAG_CONTEXT_MS = 2000;

/** What a clip shows: an event (with a second each side), or a range of session time. */
export type ClipTarget = { eventId: number } | { fromMs: number; toMs: number };

/** The range around one moment of the drive, inside the session. */
export function rangeAround(timeMs: number, durationMs: number): ClipTarget {
  return { fromMs: Math.max(0, timeMs - FLAG_CONTEXT_MS), toMs: Math.min(durationMs, timeMs + FLAG_CONTEXT_MS) };
}

/**
 * Encodes an mp4 of the target with the overlay as it is on screen into the export folder (the export panel's,
 * else one asked for), showing the frames encoded so far on the button.
 */
export function ClipButton({ target }: { target: ClipTarget }) {
  const { api, session, analysis, overlays } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const busy = progress !== undefined;

  useEffect(
    () =>
      busy
        ? api.on(
            'export.clipProgress',
            (event) => event.sessionId === session.id && setProgress({ done: event.done, total: event.total }),
          )
        : undefined,
    [api, busy, session.id],
  );

  const chooseFolder = async () => {
    const remembered = localStorage.getItem('dmlreview.exportFolder');
    if (remembered) return remembered;
    const pick = nativeDialogs();
    const folder = pick ? (await pick('folder'))[0] : window.prompt('Folder to write the clip into');
    if (folder?.trim()) localStorage.setItem('dmlreview.exportFolder', folder.trim());
    return folder?.trim();
  };

  const run = async () => {
    const folder = await chooseFolder();
    if (!folder) return;
    setProgress({ done: 0, total: 0 });
    const clip = await guarded(() =>
      api.call('export.clip', { sessionId: session.id, analysisId: analysis.id, folder, overlay: overlays, ...target }),
    );
    setProgress(undefined);
    if (clip)
      toast(
        'info',
        `Clip written: ${clip.path}/${clip.video} (${(clip.frames / clip.fps).toFixed(1)} s, ${formatBytes(clip.bytes)})`,
      );
  };

  return (
    <button
      className="clip-button"
      title="Export a video clip of this with the overlay as on screen"
      data-testid="clip-button"
      disabled={busy}
      onClick={(click) => {
        click.stopPropagation();
        void run();
      }}
    >
      {busy ? `${progress.done}/${progress.total || '…'}` : 'Clip'}
    </button>
  );
}
