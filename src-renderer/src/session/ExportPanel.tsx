import { useEffect, useState } from 'react';
import type { ExportResult } from '../../../src-shared/contract/index';
import { nativeDialogs } from '../api/index';
import { formatBytes, formatCount } from '../ui/format';
import { useGuarded, useToast } from '../ui/toasts';
import { useSessionView } from './context';

/** Writes the flagged frames, maps, manifests and an offline HTML report into a new folder. */
export function ExportPanel() {
  const { api, session, analysis, flags } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  const pick = nativeDialogs();
  const [folder, setFolder] = useState(() => localStorage.getItem('dmlreview.exportFolder') ?? '');
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [result, setResult] = useState<ExportResult>();
  const [busy, setBusy] = useState(false);
  const count = flags.filter((flag) => flag.analysisId === analysis.id).length;

  useEffect(
    () =>
      api.on(
        'export.progress',
        (event) => event.sessionId === session.id && setProgress({ done: event.done, total: event.total }),
      ),
    [api, session.id],
  );

  const run = async () => {
    setBusy(true);
    setResult(undefined);
    setProgress({ done: 0, total: count });
    localStorage.setItem('dmlreview.exportFolder', folder);
    const written = await guarded(() =>
      api.call('export.flagged', {
        sessionId: session.id,
        analysisId: analysis.id,
        folder: folder.trim(),
        name: name.trim() || undefined,
      }),
    );
    setBusy(false);
    if (written) {
      setResult(written);
      toast('info', `Exported ${formatCount(written.frames.length, 'frame')} to ${written.path}`);
    }
  };

  return (
    <div className="export" data-testid="export-panel">
      <p className="muted">
        {count} flagged frame{count === 1 ? '' : 's'} of this analysis. Each gets the full-resolution original from the
        footage, an overlay, the OOD map and the class-id map; plus manifest.json, manifest.csv and report.html (opens
        offline).
      </p>
      <label className="stack">
        <span className="label">Into folder</span>
        <span className="input-row">
          <input
            data-testid="export-folder"
            value={folder}
            onChange={(event) => setFolder(event.target.value)}
            placeholder="/path/to/exports"
            spellCheck={false}
          />
          {pick && (
            <button type="button" onClick={() => void pick('folder').then((paths) => paths[0] && setFolder(paths[0]))}>
              Browse…
            </button>
          )}
        </span>
      </label>
      <label className="stack">
        <span className="label">New folder name (optional)</span>
        <input
          data-testid="export-name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder={`dmlreview-${session.name.replace(/\.\w{2,4}$/, '')}-<time>`}
          spellCheck={false}
        />
      </label>
      <button
        className="primary"
        disabled={busy || !folder.trim() || count === 0}
        onClick={() => void run()}
        data-testid="export-run"
      >
        {busy
          ? `Exporting ${progress?.done ?? 0} / ${progress?.total ?? count}…`
          : `Export ${count} flagged frame${count === 1 ? '' : 's'}`}
      </button>
      {result && (
        <div className="export-result" data-testid="export-result" data-path={result.path}>
          <div>
            <strong>Written:</strong> <code>{result.path}</code>
          </div>
          <div className="muted">
            {formatCount(result.frames.length, 'frame')} · {formatBytes(result.bytes)} · open{' '}
            <code>{result.report}</code> in any browser
          </div>
        </div>
      )}
    </div>
  );
}
