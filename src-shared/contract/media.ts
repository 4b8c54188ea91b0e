/**
 * Paths of binary resources under the media root. The review server serves them at /media/<path>, the
 * Electron shell at dmlr://app/media/<path>; ApiClient.mediaUrl adds the root.
 */
export const mediaPaths = {
  frame: (analysisId: number, frameIndex: number) => `frame/${analysisId}/${frameIndex}.jpg`,
  classMap: (analysisId: number, frameIndex: number) => `classmap/${analysisId}/${frameIndex}.png`,
  oodMap: (analysisId: number, frameIndex: number) => `oodmap/${analysisId}/${frameIndex}.png`,
  thumbnail: (sessionId: number) => `thumbnail/${sessionId}.jpg`,
  /** A session's source video by its position in the session, served with byte ranges for <video>. */
  source: (sessionId: number, position: number) => `source/${sessionId}/${position}`,
} as const;
