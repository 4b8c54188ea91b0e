import { useEffect, useState } from 'react';
import { ExportFormat, type ExportResult } from '../../../src-shared/contract/index';
import { nativeDialogs } from '../api/index';
import { formatBytes, formatCount } from '../ui/format';
import { useGuarded, useToast } from '../ui/toasts';
import { useSessionView } from './context';

/** What each format writes, as the panel explains it. */
const FORMAT_DESCRIPTIONS: Record<ExportFormat, string> = {
  folder:
    'Each gets the full-resolution original from the footage, an overlay, the OOD map and the class-id map; plus manifest.json, manifest.csv and report.html (opens offline).',
  coco: 'COCO annotations.json beside images/: the unknown regions as instances (RLE masks at the source resolution, box, area, score, flag category and note).',
  cityscapes:
    'Cityscapes layout: leftImg8bit/ originals and gtFine/ *_labelTrainIds.png label PNGs at the source resolution, unknown as id 254, classes.json beside.',
  camvid:
    'CamVid layout: images/ and labels/ (class-id PNGs at the source resolution, unknown as id 254) and classes.json.',
  fiftyone: 'FiftyOne image-segmentation directory: data/ and labels/ with matching names, mask_targets.json.',
  cvat: 'CVAT for images 1.1: annotations.xml with a polygon per unknown region, images/ beside it.',
};

/** Writes the flagged frames into a new folder, in the chosen format. */
export function ExportPanel() {
  const { api, session, analysis, flags } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  const pick = nativeDialogs();
  const [folder, setFolder] = useState(() => localStorage.getItem('dmlreview.exportFolder') ?? '');
  const [name, setName] = useState('');
  const [format, setFormat] = useState<ExportFormat>('folder');
  const [semantic, setSemantic] = useState(false);
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
        format,
        semantic: format === 'coco' && semantic,
      }),
    );
    setBusy(false);
    if (written) {
      setResult(written);
      toast('info', `Exported ${formatCount(written.frames.length, 'frame')} as ${written.format} to ${written.path}`);
    }
  };

  return (
    <div className="export" data-testid="export-panel">
      <p className="muted">
        {count} flagged frame{count === 1 ? '' : 's'} of this analysis. {FORMAT_DESCRIPTIONS[format]}
      </p>
      <label className="stack">
        <span className="label">Format</span>
        <select
          data-testid="export-format"
          value={format}
          onChange={(event) => setFormat(ExportFormat.parse(event.target.value))}
        >
          {ExportFormat.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      </label>
      {format === 'coco' && (
        <label>
          <input
            type="checkbox"
            data-testid="export-semantic"
            checked={semantic}
            onChange={(event) => setSemantic(event.target.checked)}
          />{' '}
          Known classes as semantic segments too
        </label>
      )}
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
            {formatCount(result.frames.length, 'frame')} · {formatBytes(result.bytes)} · {result.format} ·{' '}
            {result.format === 'folder' ? 'open' : 'import'} <code>{result.index}</code>
            {result.format === 'folder' && ' in any browser'}
          </div>
        </div>
      )}
    </div>
  );
}
