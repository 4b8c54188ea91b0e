import { useState } from 'react';
import { encodeRle, type SessionInfo, type SimilarResult } from '../../../src-shared/contract/index';
import { useSessionView } from '../session/context';
import { loadFrameLayers } from '../session/frame-layers';
import { useGuarded, useToast } from '../ui/toasts';
import { hexToRgb } from '../teaching/draft';
import { ReanalysePicker } from '../teaching/ReanalysePicker';
import { boxOnMap, classValueOf, regionMask } from './search';

/**
 * Teaches a new class from chosen results (1 to 5), as the Teach tab does from marked frames: each result's
 * mask is its region's pixels (the unknown pixels, or the class's, inside its box on the stored maps).
 */
export function TeachFromResults({
  results,
  model,
  sources,
  onDone,
}: {
  results: readonly SimilarResult[];
  model: string;
  sources: ReadonlyMap<number, SessionInfo>;
  onDone: () => void;
}) {
  const { api, session } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  const [name, setName] = useState('');
  const [color, setColor] = useState('#e040fb');
  const [busy, setBusy] = useState(false);
  const [taught, setTaught] = useState<string>();

  const shots = () =>
    Promise.all(
      results.map(async (result) => {
        const source = sources.get(result.sessionId);
        if (!source) throw new Error(`The drive of the result at frame ${result.frameIndex} is not in the library`);
        const layers = await loadFrameLayers(api, result.analysisId, result.frameIndex);
        const map = { width: layers.mapWidth, height: layers.mapHeight };
        const mask = regionMask(layers.classMap, map.width, boxOnMap(result.box, source, map), classValueOf(result));
        return {
          frame: { analysisId: result.analysisId, frameIndex: result.frameIndex },
          mask: encodeRle(mask, map.width, map.height),
        };
      }),
    );

  const teach = () =>
    void guarded(async () => {
      setBusy(true);
      try {
        const answer = await api.call('teaching.teach', {
          model,
          name: name.trim(),
          color: hexToRgb(color),
          shots: await shots(),
        });
        for (const warning of answer.warnings) toast('warning', warning.message);
        toast('info', `Taught "${answer.taughtClass.name}" from ${results.length} results`);
        setTaught(answer.taughtClass.name);
      } finally {
        setBusy(false);
      }
    });

  if (taught)
    return (
      <div className="find-more-teach" data-testid="find-more-taught">
        <p>
          <strong>{taught}</strong> is taught. Re-analyse drives to find it:
        </p>
        <ReanalysePicker model={model} currentSessionId={session.id} onStarted={onDone} />
        <button onClick={onDone}>Close</button>
      </div>
    );
  return (
    <div className="find-more-teach teach-row" data-testid="find-more-teach-form">
      <span>
        New class from {results.length} result{results.length === 1 ? '' : 's'}:
      </span>
      <input
        placeholder="Class name"
        value={name}
        maxLength={64}
        onChange={(event) => setName(event.target.value)}
        data-testid="find-more-teach-name"
      />
      <input type="color" value={color} onChange={(event) => setColor(event.target.value)} title="Class colour" />
      <button className="primary" onClick={teach} disabled={!name.trim() || busy} data-testid="find-more-teach-submit">
        {busy ? 'Teaching…' : 'Teach'}
      </button>
      <button onClick={onDone}>Cancel</button>
    </div>
  );
}
