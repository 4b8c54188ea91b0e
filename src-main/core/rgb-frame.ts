/** An RGB frame, 8 bits per channel, interleaved (as ffmpeg's rgb24 writes it): what footage decodes and the engine analyses. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}
