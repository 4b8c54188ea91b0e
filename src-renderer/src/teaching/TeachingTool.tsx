import { decodeRle } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import type { ViewerToolProps } from '../session/context';
import { useGuarded } from '../ui/toasts';
import { useDraft } from './draft';
import { MaskCanvas } from './MaskCanvas';

/**
 * The teaching mask in the main viewer, while the Teach tab is open: the shot of the frame on screen, painted
 * at the frame's full size. A frame that is not a shot gets a note instead of a canvas.
 */
export function TeachingTool({ analysisId, frameIndex }: ViewerToolProps) {
  const api = useApi();
  const guarded = useGuarded();
  const draft = useDraft(analysisId);
  const shot = draft.shots.find((entry) => entry.frameIndex === frameIndex);
  if (!shot) {
    return draft.shots.length ? (
      <div className="tool-note" data-testid="teach-not-a-shot">
        Frame {frameIndex} is not a teaching frame: add it in the Teach tab, or pick one of its frames
      </div>
    ) : null;
  }
  const wand = (x: number, y: number) =>
    void guarded(async () => {
      const result = await api.call('teaching.wand', {
        model: draft.model,
        frame: { analysisId, frameIndex },
        x,
        y,
        maxDistance: draft.wandDistance,
      });
      const region = decodeRle(result.mask);
      draft.change(() => {
        shot.history.checkpoint();
        region.forEach((bit, p) => bit && (shot.history.mask[p] = 1));
      });
    });
  return <MaskCanvas draft={draft} shot={shot} onWand={wand} />;
}
