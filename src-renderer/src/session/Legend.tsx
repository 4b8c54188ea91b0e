import type { ClassInfo, FrameSummary } from '../../../src-shared/contract/index';
import { displayColor } from '../ui/colors';
import { formatPercent, rgbCss } from '../ui/format';

/** Class colours with each class's share of the frame on screen; unknown pixels last. */
export function Legend({ classes, summary }: { classes: ClassInfo[]; summary?: FrameSummary }) {
  return (
    <div className="legend" data-testid="legend">
      {classes.map((info) => (
        <div key={info.index} className="legend-row" title={info.taught ? 'taught class' : undefined}>
          <span className="swatch" style={{ background: rgbCss(displayColor(info.color)) }} />
          <span className="legend-name">
            {info.name}
            {info.taught && <span className="muted"> ✱</span>}
          </span>
          <span className="num muted">{summary ? formatPercent(summary.classAreas[info.index] ?? 0, 0) : ''}</span>
        </div>
      ))}
      <div className="legend-row">
        <span className="swatch swatch-unknown" />
        <span className="legend-name">unknown</span>
        <span className="num muted">{summary ? formatPercent(summary.unknownFraction, 0) : ''}</span>
      </div>
      <div className="legend-row">
        <span className="swatch swatch-heat" />
        <span className="legend-name">OOD score</span>
      </div>
    </div>
  );
}
