import { useCallback, useEffect, useState } from 'react';
import { mediaPaths, type AnalysisInfo, type ModelInfo, type SessionInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { formatDuration } from '../ui/format';
import { AnalysisProgress, StatusBadge } from '../ui/ProgressBar';
import { useGuarded, useToast } from '../ui/toasts';
import { ImportBar, type ImportOptions } from './ImportBar';

/** Sessions with their analysis state, kept live by progress events; import, start, cancel, re-run, open. */
export function LibraryScreen({ onOpen }: { onOpen: (sessionId: number) => void }) {
  const api = useApi();
  const guarded = useGuarded();
  const toast = useToast();
  const [sessions, setSessions] = useState<SessionInfo[]>();
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [selected, setSelected] = useState(0);

  const reload = useCallback(() => guarded(() => api.call('sessions.list', {}).then(setSessions)), [api, guarded]);

  useEffect(() => {
    void reload();
    void guarded(() => api.call('models.list', {}).then(setModels));
    const offChanged = api.on('sessions.changed', () => void reload());
    const offProgress = api.on('analysis.progress', (analysis) =>
      setSessions((current) => withAnalysis(current, analysis)),
    );
    return () => {
      offChanged();
      offProgress();
    };
  }, [api, guarded, reload]);

  const importPaths = async (paths: string[], options: ImportOptions) => {
    const session = await guarded(() =>
      api.call('sessions.import', {
        paths,
        imageFps: options.imageFps,
        analyse: { model: options.model, sampleFps: options.sampleFps },
      }),
    );
    if (!session) return false;
    toast('info', `Imported ${session.name}; analysis started`);
    await reload();
    return true;
  };

  const start = (sessionId: number, model?: string) =>
    guarded(async () => {
      const analysis = await api.call('analysis.start', { sessionId, model });
      setSessions((current) => withAnalysis(current, analysis));
    });
  const cancel = (analysisId: number) =>
    guarded(async () => {
      const analysis = await api.call('analysis.cancel', { analysisId });
      setSessions((current) => withAnalysis(current, analysis));
    });
  const remove = (session: SessionInfo) => {
    if (
      !window.confirm(
        `Delete session "${session.name}" and its analyses and flags? The footage files stay where they are.`,
      )
    )
      return;
    void guarded(async () => {
      await api.call('sessions.delete', { sessionId: session.id });
      await reload();
    });
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (!sessions?.length || (event.target as HTMLElement).closest('input, select, textarea')) return;
    if (event.key === 'ArrowDown') setSelected((index) => Math.min(sessions.length - 1, index + 1));
    else if (event.key === 'ArrowUp') setSelected((index) => Math.max(0, index - 1));
    else if (event.key === 'Enter' && sessions[selected]) onOpen(sessions[selected].id);
    else return;
    event.preventDefault();
  };

  return (
    <div className="library" data-testid="library-screen" tabIndex={-1} onKeyDown={onKeyDown}>
      <ImportBar models={models} onImport={importPaths} />
      <div className="table-wrap">
        <table className="sessions">
          <thead>
            <tr>
              <th />
              <th>Session</th>
              <th>Duration</th>
              <th>Footage</th>
              <th>Model</th>
              <th>Status</th>
              <th className="wide">Analysis</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sessions?.map((session, index) => (
              <SessionRow
                key={session.id}
                session={session}
                models={models}
                selected={index === selected}
                onSelect={() => setSelected(index)}
                onOpen={() => onOpen(session.id)}
                onStart={(model) => void start(session.id, model)}
                onCancel={(analysisId) => void cancel(analysisId)}
                onDelete={() => remove(session)}
              />
            ))}
          </tbody>
        </table>
        {sessions?.length === 0 && (
          <div className="empty">
            <p>No drives yet.</p>
            <p className="muted">
              Paste the path of a video or an image folder above, or drop footage anywhere on this window.
            </p>
          </div>
        )}
        {!sessions && <div className="empty muted">Loading the library…</div>}
      </div>
    </div>
  );
}

function withAnalysis(sessions: SessionInfo[] | undefined, analysis: AnalysisInfo): SessionInfo[] | undefined {
  return sessions?.map((session) =>
    session.id === analysis.sessionId && (!session.latestAnalysis || session.latestAnalysis.id <= analysis.id)
      ? { ...session, latestAnalysis: analysis }
      : session,
  );
}

interface RowProps {
  session: SessionInfo;
  models: ModelInfo[];
  selected: boolean;
  onSelect: () => void;
  onOpen: () => void;
  onStart: (model?: string) => void;
  onCancel: (analysisId: number) => void;
  onDelete: () => void;
}

function SessionRow({ session, models, selected, onSelect, onOpen, onStart, onCancel, onDelete }: RowProps) {
  const api = useApi();
  const analysis = session.latestAnalysis;
  const active = analysis?.status === 'running' || analysis?.status === 'queued';
  const [rerunModel, setRerunModel] = useState('');
  const usable = models.filter((model) => model.status === 'ok');
  return (
    <tr
      className={selected ? 'selected' : undefined}
      data-testid="session-row"
      data-session-id={session.id}
      onClick={onSelect}
      onDoubleClick={onOpen}
    >
      <td className="thumb-cell">
        {session.hasThumbnail ? (
          <img
            className="thumb"
            src={api.mediaUrl(mediaPaths.thumbnail(session.id))}
            alt=""
            loading="lazy"
            onError={hideBroken}
          />
        ) : (
          <div className="thumb thumb-missing" title="No frame could be decoded for a thumbnail">
            no preview
          </div>
        )}
      </td>
      <td>
        <button className="link strong" onClick={onOpen} data-testid="open-session">
          {session.name}
        </button>
        <div className="muted small" title={session.sources.map((source) => source.path).join('\n')}>
          {session.sources.length === 1 ? session.sources[0]?.path : `${session.sources.length} clips`}
        </div>
      </td>
      <td className="num">{formatDuration(session.durationMs)}</td>
      <td className="muted small">
        {session.width}×{session.height} · {session.fps.toFixed(session.fps % 1 ? 2 : 0)} fps
      </td>
      <td className="small">{analysis?.modelName ?? '–'}</td>
      <td>
        <StatusBadge status={analysis?.status ?? 'none'} />
      </td>
      <td className="wide">
        {analysis ? <AnalysisProgress analysis={analysis} /> : <span className="muted">–</span>}
        {analysis?.message && <div className="small warn-text">{analysis.message}</div>}
      </td>
      <td className="actions">
        {active && analysis ? (
          <button onClick={() => onCancel(analysis.id)} data-testid="cancel-analysis">
            Cancel
          </button>
        ) : (
          <span className="rerun">
            <select
              value={rerunModel}
              onChange={(event) => setRerunModel(event.target.value)}
              aria-label="Model for the next analysis"
            >
              <option value="">{analysis ? 'same model' : 'default model'}</option>
              {usable.map((model) => (
                <option key={model.name} value={model.name}>
                  {model.name}
                </option>
              ))}
            </select>
            <button
              onClick={() => onStart(rerunModel || analysis?.modelName || undefined)}
              data-testid="start-analysis"
            >
              {analysis ? 'Re-run' : 'Analyse'}
            </button>
          </span>
        )}
        <button className="primary" onClick={onOpen}>
          Open
        </button>
        <button className="icon danger" onClick={onDelete} title="Delete session" aria-label="Delete session">
          ✕
        </button>
      </td>
    </tr>
  );
}

function hideBroken(event: React.SyntheticEvent<HTMLImageElement>) {
  event.currentTarget.style.visibility = 'hidden';
}
