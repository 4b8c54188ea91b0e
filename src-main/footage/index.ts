export { ffmpegReason, ffmpegTools, forgetFfmpegTools, type FfmpegTools } from './ffmpeg.js';
export { probeSource, type ProbeOptions } from './probe.js';
export {
  decodeSource,
  expectedFrames,
  gridSelectFilter,
  type DecodedFrame,
  type DecodeOptions,
  type DecodeOutcome,
} from './decode.js';
export { extractFullFrame, extractAnalysedFrame, extractAnalysedFrameRgb, makeThumbnail } from './extract.js';
