export { ffmpegReason, ffmpegTools, forgetFfmpegTools, type FfmpegTools } from './ffmpeg.js';
export { hashSource, probeSource, type ProbeOptions } from './probe.js';
export {
  decodeSource,
  expectedFrames,
  gridSelectFilter,
  type DecodedFrame,
  type DecodeOptions,
  type DecodeOutcome,
} from './decode.js';
export { FrameBuffers } from './frame-buffers.js';
export { extractFullFrame, extractScaledFrameRgb, makeThumbnail } from './extract.js';
export type { FootageSource, ProbedSource } from './source.js';
