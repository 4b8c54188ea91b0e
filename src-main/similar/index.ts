/** "Find more like this": regions like one on screen, across every analysis made with the same model. */
export {
  SimilarSearch,
  similarityOf,
  toSourceBox,
  DEFAULT_CACHE_BYTES,
  type MaskEmbedder,
  type SimilarRequest,
} from './search.js';
