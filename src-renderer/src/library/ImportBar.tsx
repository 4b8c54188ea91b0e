import { useEffect, useState } from 'react';
import type { ModelInfo } from '../../../src-shared/contract/index';
import { nativeDialogs, savedTeamLibrary } from '../api/index';
import { useToast } from '../ui/toasts';
import { droppedPaths } from './drop';

export interface ImportOptions {
  model?: string;
  sampleFps: number | null;
  /** Frame rate of an image folder; undefined: the default, 1 image per second. */
  imageFps?: number;
}

/**
 * Footage comes in three ways: a path typed or pasted (browser mode: the page cannot see the disk), the native
 * dialog (desktop app), or files dropped anywhere on the window.
 */
export function ImportBar({
  models,
  onImport,
}: {
  models: ModelInfo[];
  /** Resolves true once imported; false when the import failed (the error is shown by then). */
  onImport: (paths: string[], options: ImportOptions) => Promise<boolean>;
}) {
  const toast = useToast();
  const pick = nativeDialogs();
  const [pathText, setPathText] = useState('');
  const [model, setModel] = useState('');
  const [fpsText, setFpsText] = useState('');
  const [imageFpsText, setImageFpsText] = useState('');
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);

  const options = (): ImportOptions => ({
    model: model || undefined,
    sampleFps: fpsText ? Number(fpsText) : null,
    imageFps: imageFpsText ? Number(imageFpsText) : undefined,
  });
  const submit = async (paths: string[]) => {
    if (!paths.length || busy) return;
    setBusy(true);
    try {
      // A failed import keeps the typed paths, so a typo can be fixed instead of typed again.
      if (await onImport(paths, options())) setPathText('');
    } finally {
      setBusy(false);
    }
  };
  const typedPaths = () =>
    pathText
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);

  useEffect(() => {
    let depth = 0;
    const enter = (event: DragEvent) => {
      if (!event.dataTransfer?.types.some((type) => type === 'Files' || type === 'text/uri-list')) return;
      depth += 1;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (event: DragEvent) => event.preventDefault();
    const drop = (event: DragEvent) => {
      event.preventDefault();
      depth = 0;
      setDragging(false);
      const paths = event.dataTransfer ? droppedPaths(event.dataTransfer) : [];
      if (paths.length) void submit(paths);
      else
        toast(
          'warning',
          'The browser does not reveal where dropped files live: paste their path instead, or use the desktop app.',
        );
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  });

  return (
    <form
      className="import-bar"
      onSubmit={(event) => {
        event.preventDefault();
        void submit(typedPaths());
      }}
    >
      <label className="import-path">
        <span className="label">Import footage</span>
        <input
          data-testid="import-path"
          value={pathText}
          onChange={(event) => setPathText(event.target.value)}
          placeholder={
            savedTeamLibrary()
              ? 'a path the team server sees (its shared footage folder), e.g. /footage/drive.mp4'
              : '/path/to/drive.mp4 or an image folder'
          }
          spellCheck={false}
        />
      </label>
      {pick && (
        <button type="button" onClick={() => void pick('footage').then(submit)} disabled={busy}>
          Browse…
        </button>
      )}
      <label>
        <span className="label">Model</span>
        <select value={model} onChange={(event) => setModel(event.target.value)} data-testid="import-model">
          <option value="">default</option>
          {models.map((candidate) => (
            <option
              key={candidate.name}
              value={candidate.name}
              disabled={candidate.status !== 'ok'}
              title={candidate.error ?? candidate.description}
            >
              {candidate.name}
              {candidate.status !== 'ok' ? ' (unavailable)' : ''}
            </option>
          ))}
        </select>
      </label>
      <RateField
        label="Sample fps"
        value={fpsText}
        placeholder="all"
        onChange={setFpsText}
        title="Frames per second to analyse; empty analyses every frame"
      />
      <RateField
        label="Image folder fps"
        value={imageFpsText}
        placeholder="1"
        onChange={setImageFpsText}
        title="Rate the images of a folder were taken at (they carry no timestamps); empty: 1 per second"
        testId="import-image-fps"
      />
      <button className="primary" type="submit" disabled={busy || !pathText.trim()} data-testid="import-submit">
        {busy ? 'Importing…' : 'Import & analyse'}
      </button>
      {dragging && (
        <div className="drop-overlay">
          <div>Drop footage to import and analyse</div>
        </div>
      )}
    </form>
  );
}

/** A frames-per-second box; empty means the default its placeholder names. */
function RateField(props: {
  label: string;
  value: string;
  placeholder: string;
  title: string;
  onChange: (value: string) => void;
  testId?: string;
}) {
  return (
    <label>
      <span className="label">{props.label}</span>
      <input
        className="narrow"
        type="number"
        min={0.1}
        step={0.1}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(event) => props.onChange(event.target.value)}
        title={props.title}
        data-testid={props.testId}
      />
    </label>
  );
}
