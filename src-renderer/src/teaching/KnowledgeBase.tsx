import { useCallback, useEffect, useState } from 'react';
import type { TaughtClassInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useGuarded, useToast } from '../ui/toasts';
import { hexToRgb, rgbToHex } from './draft';

/** The taught classes of a model: rename, recolour, disable, delete; export and import as a JSON file. */
export function KnowledgeBase({
  model,
  version,
}: {
  model: string;
  /** Changes when a class was taught elsewhere: reload. */ version: number;
}) {
  const api = useApi();
  const guarded = useGuarded();
  const toast = useToast();
  const [state, setState] = useState<{ version: number | null; classes: TaughtClassInfo[] }>();

  const load = useCallback(
    () =>
      guarded(async () => {
        const result = await api.call('teaching.classes.list', { model });
        setState({ version: result.knowledgeVersion, classes: result.classes });
      }),
    [api, guarded, model],
  );
  useEffect(() => void load(), [load, version]);

  const change = (work: () => Promise<unknown>) => void guarded(async () => (await work(), await load()));

  const exportFile = () =>
    void guarded(async () => {
      const document = await api.call('teaching.export', { model });
      const url = URL.createObjectURL(new Blob([JSON.stringify(document, null, 1)], { type: 'application/json' }));
      const link = Object.assign(window.document.createElement('a'), {
        href: url,
        download: `${model}-knowledge.json`,
      });
      link.click();
      URL.revokeObjectURL(url);
    });

  const importFile = (file: File) =>
    change(async () => {
      const result = await api.call('teaching.import', { model, document: await file.text() });
      toast(
        'info',
        `Imported ${result.imported.join(', ') || 'nothing'}${result.skipped.length ? `; skipped (name exists): ${result.skipped.join(', ')}` : ''}`,
      );
    });

  return (
    <section className="knowledge" data-testid="knowledge-base">
      <h4>
        Knowledge base{' '}
        <span className="muted">{state?.version ? `version ${state.version}` : 'nothing taught yet'}</span>
      </h4>
      {state?.classes.map((cls) => (
        <div key={cls.id} className="row knowledge-row" data-testid="knowledge-row">
          <input
            type="color"
            value={rgbToHex(cls.color)}
            onChange={(event) =>
              change(() => api.call('teaching.update', { classId: cls.id, color: hexToRgb(event.target.value) }))
            }
            title="Colour"
          />
          <input
            defaultValue={cls.name}
            title={`Taught by ${cls.createdBy} on ${cls.createdAt.slice(0, 10)} from ${cls.shots.length} frame(s)`}
            onBlur={(event) =>
              event.target.value.trim() &&
              event.target.value !== cls.name &&
              change(() => api.call('teaching.update', { classId: cls.id, name: event.target.value.trim() }))
            }
          />
          <label title="Use this class in analyses">
            <input
              type="checkbox"
              checked={cls.enabled}
              onChange={() => change(() => api.call('teaching.update', { classId: cls.id, enabled: !cls.enabled }))}
            />
            on
          </label>
          <button
            className="icon danger"
            aria-label={`Delete ${cls.name}`}
            onClick={() =>
              window.confirm(`Delete the taught class "${cls.name}"?`) &&
              change(() => api.call('teaching.delete', { classId: cls.id }))
            }
          >
            ✕
          </button>
        </div>
      ))}
      <div className="teach-row">
        <button onClick={exportFile} disabled={!state?.classes.length}>
          Export…
        </button>
        <label className="file-button">
          Import…
          <input
            type="file"
            accept="application/json,.json"
            onChange={(event) => event.target.files?.[0] && importFile(event.target.files[0])}
            hidden
          />
        </label>
      </div>
    </section>
  );
}
