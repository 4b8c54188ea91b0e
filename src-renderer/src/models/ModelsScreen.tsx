import { useEffect, useState } from 'react';
import type { ModelInfo, ModelReport } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { displayColor } from '../ui/colors';
import { useGuarded } from '../ui/toasts';

const FIGURE_NAMES: Record<string, string> = {
  auroc: 'AUROC (pixels)',
  aupr: 'AUPR (pixels)',
  fpr95: 'FPR at 95 % TPR',
  pixel_f1: 'best pixel F1',
  siou: 'sIoU (components)',
  ppv: 'PPV (components)',
  mean_f1: 'mean F1 (components)',
  miou: 'mIoU (known classes)',
  acc: 'pixel accuracy',
};

/** The models folder: a list of models, and the card of the chosen one with its evaluation report's plots. */
export function ModelsScreen({ model, onSelect }: { model?: string; onSelect: (model: string) => void }) {
  const api = useApi();
  const guarded = useGuarded();
  const [models, setModels] = useState<ModelInfo[]>();
  useEffect(() => {
    void guarded(() => api.call('models.list', {}).then(setModels));
  }, [api, guarded]);
  const shown = models?.find((info) => info.name === model) ?? models?.find((info) => info.isDefault) ?? models?.[0];
  return (
    <div className="models-screen" data-testid="models-screen">
      <ul className="model-list">
        {models?.map((info) => (
          <li key={info.name}>
            <button
              className={info.name === shown?.name ? 'model-item selected' : 'model-item'}
              onClick={() => onSelect(info.name)}
              data-testid={`model-item-${info.name}`}
            >
              {info.name}
              {info.isDefault && <span className="muted"> · default</span>}
              {info.status === 'error' && <span className="error"> · broken</span>}
            </button>
          </li>
        ))}
      </ul>
      {shown ? <ModelCard key={shown.name} info={shown} /> : <p className="muted">{models ? 'No models.' : 'Loading…'}</p>}
    </div>
  );
}

function ModelCard({ info }: { info: ModelInfo }) {
  const api = useApi();
  const guarded = useGuarded();
  const [report, setReport] = useState<ModelReport>();
  useEffect(() => {
    void guarded(() => api.call('models.report', { model: info.name }).then(setReport));
  }, [api, guarded, info.name]);
  return (
    <section className="model-card" data-testid="model-card">
      <h2>{info.name}</h2>
      {info.error && <p className="error">{info.error}</p>}
      <p>{info.description}</p>
      <table className="card-fields">
        <tbody>
          <tr>
            <th>Input</th>
            <td>
              {info.inputWidth}×{info.inputHeight}, embedding {info.embeddingDim}
            </td>
          </tr>
          <tr>
            <th>Frame threshold</th>
            <td>{info.defaultThreshold}</td>
          </tr>
          <tr>
            <th>Unknown classes</th>
            <td>{info.unknownClasses.join(', ') || '–'}</td>
          </tr>
          <tr>
            <th>sha256</th>
            <td className="mono">{info.sha256.slice(0, 16)}…</td>
          </tr>
          <tr>
            <th>Classes</th>
            <td>
              {info.classes.map((cls) => (
                <span key={cls.index} className="class-chip">
                  <span className="swatch" style={{ background: `rgb(${displayColor(cls.color).join(',')})` }} />
                  {cls.name}
                  {cls.taught ? ' (taught)' : ''}
                </span>
              ))}
            </td>
          </tr>
        </tbody>
      </table>
      <h3>Evaluation</h3>
      {report?.found === false && (
        <p className="muted" data-testid="no-report">
          No evaluation report. Write one with <code>dmlreview eval --model {info.name} … --report {report.folder}</code>.
        </p>
      )}
      {report?.found && (
        <div data-testid="model-report">
          <p className="muted">
            Score {report.score}, {report.images} images, {new Date(report.createdAt).toLocaleString()}; figures in
            percent.
          </p>
          <table className="card-fields">
            <tbody>
              {report.figures.map((figure) => (
                <tr key={figure.key}>
                  <th>{FIGURE_NAMES[figure.key] ?? figure.key}</th>
                  <td data-key={figure.key}>{figure.value === null ? '–' : figure.value.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="report-plots">
            {report.plots.map((plot) => (
              // As an image, an SVG runs no script and reaches nothing: the file is data, not markup of the page.
              <img
                key={plot.title}
                alt={plot.title}
                title={plot.title}
                src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(plot.svg)}`}
              />
            ))}
          </div>
        </div>
      )}
    </section>
  );
}
