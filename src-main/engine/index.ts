/** The engine's public surface: model cards and listing, engines, maps, image decoding. */
export { readModelCard, regionFrameThreshold, type ModelCard } from './model-card.js';
export { checkModel, listModels, DEFAULT_MODEL } from './model-list.js';
export { openEngine, type OpenEngineOptions } from './engine.js';
export { decodeClassMapPng, encodeClassMapPng, encodeOodMapPng, quantizeScores } from './maps.js';
export { decodeImageBytes, decodeImageFile, decodeLabelPng } from './image-file.js';
export * from './types.js';
export {
  componentBoxes,
  componentRuns,
  labelAllComponents,
  labelComponents,
  runBoxes,
  type ComponentRuns,
  type Components,
  type RegionBox,
} from './regions.js';
export { describeRegions, numberComponents, prototypeSpacing, type RegionDescriptor } from './descriptors.js';
export { encodeGrayPng } from './png.js';
export { minRegionPixels } from './unknown-regions.js';
