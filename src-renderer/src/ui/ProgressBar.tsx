import type { AnalysisInfo } from '../../../src-shared/contract/index';
import { formatEta } from './format';

/** Frames done of total with the analysis speed and time left; the fill is the only moving part. */
export function AnalysisProgress({ analysis }: { analysis: AnalysisInfo }) {
  const fraction = analysis.framesTotal > 0 ? Math.min(1, analysis.framesDone / analysis.framesTotal) : 0;
  const active = analysis.status === 'running' || analysis.status === 'queued';
  return (
    <div
      className={`progress progress-${analysis.status}`}
      data-testid="analysis-progress"
      data-status={analysis.status}
      data-done={analysis.framesDone}
      data-total={analysis.framesTotal}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={analysis.framesTotal}
      aria-valuenow={analysis.framesDone}
    >
      <div className="progress-track">
        <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(2)}%` }} />
      </div>
      <div className="progress-text">
        <span>
          {analysis.framesDone.toLocaleString()} / {analysis.framesTotal.toLocaleString()}
        </span>
        {active && analysis.status === 'running' && (
          <span className="muted">
            {analysis.fps.toFixed(1)} fps · ETA {formatEta(analysis.etaSeconds)}
          </span>
        )}
        {analysis.status === 'queued' && <span className="muted">queued</span>}
      </div>
    </div>
  );
}

export function StatusBadge({ status }: { status: AnalysisInfo['status'] | 'none' }) {
  return (
    <span className={`badge badge-${status}`} data-testid="status-badge">
      {status === 'none' ? 'not analysed' : status}
    </span>
  );
}
