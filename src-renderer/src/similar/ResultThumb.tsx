import { mediaPaths, type SourceBox } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { LazyImage } from '../session/Thumb';

/** Width of a result's thumbnail in CSS pixels; its height follows the footage's shape. */
const THUMB_WIDTH = 112;

/**
 * A frame's preview at the footage's shape with a region's box drawn over it: the preview (stretched to the
 * model's shape when stored) is shown stretched back, so a box in source pixels lands where the region is.
 */
export function ResultThumb({
  analysisId,
  frameIndex,
  box,
  source,
}: {
  analysisId: number;
  frameIndex: number;
  box: SourceBox;
  source: { width: number; height: number } | undefined;
}) {
  const api = useApi();
  const [width, height] = source && source.width > 0 ? [source.width, source.height] : [4, 3];
  const percent = (value: number, of: number) => `${((value / of) * 100).toFixed(2)}%`;
  return (
    <span className="result-thumb" style={{ width: THUMB_WIDTH, height: (THUMB_WIDTH * height) / width }}>
      <LazyImage src={api.mediaUrl(mediaPaths.frame(analysisId, frameIndex))} />
      {source && (
        <span
          className="result-box"
          data-testid="result-box"
          style={{
            left: percent(box.x, width),
            top: percent(box.y, height),
            width: percent(box.width, width),
            height: percent(box.height, height),
          }}
        />
      )}
    </span>
  );
}
