import { mediaPaths } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';

/** A small frame preview with its OOD map tinted over it (CSS only: no decoding work per row). */
export function Thumb({ analysisId, frameIndex }: { analysisId: number; frameIndex: number }) {
  const api = useApi();
  return (
    <span className="thumb-stack">
      <img
        src={api.mediaUrl(mediaPaths.frame(analysisId, frameIndex))}
        alt=""
        loading="lazy"
        decoding="async"
        draggable={false}
      />
      <img
        className="thumb-heat"
        src={api.mediaUrl(mediaPaths.oodMap(analysisId, frameIndex))}
        alt=""
        loading="lazy"
        decoding="async"
        draggable={false}
      />
    </span>
  );
}
