import { mediaPaths } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useSessionView } from './context';

/** The box thumbnails fit in, in CSS pixels (a list row is 56 high). */
const THUMB_BOX = { width: 64, height: 46 };

/**
 * A small frame preview with its OOD map tinted over it (CSS only: no decoding work per row), both stretched
 * to the footage's aspect ratio: the maps, and the previews of older libraries, have the model's shape.
 */
export function Thumb({ analysisId, frameIndex }: { analysisId: number; frameIndex: number }) {
  const api = useApi();
  const { session } = useSessionView();
  const aspect = session.width > 0 && session.height > 0 ? session.width / session.height : 4 / 3;
  const width = Math.min(THUMB_BOX.width, THUMB_BOX.height * aspect);
  return (
    <span className="thumb-stack" style={{ width, height: width / aspect }} data-testid="thumb">
      <LazyImage src={api.mediaUrl(mediaPaths.frame(analysisId, frameIndex))} />
      <LazyImage className="thumb-heat" src={api.mediaUrl(mediaPaths.oodMap(analysisId, frameIndex))} />
    </span>
  );
}

/** A picture of a list, loaded and decoded only when scrolled into view, and not draggable out of the app. */
export function LazyImage({ src, className }: { src: string; className?: string }) {
  return <img className={className} src={src} alt="" loading="lazy" decoding="async" draggable={false} />;
}
