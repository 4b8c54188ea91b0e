export { AnalysisService, DEFAULT_SAMPLE_FPS, type AnalysisRequest } from './analyses.js';
export { JobQueue, type JobQueueOptions } from './job-queue.js';
export { runAnalysis, type AnalysisJob, type AnalysisHooks, type EngineFactory } from './pipeline.js';
export type { AnalysisQueue } from './analysis-queue.js';
export {
  DEFAULT_CHUNK_SECONDS,
  FleetQueue,
  runWorker,
  type FleetQueueOptions,
  type FleetWorker,
  type WorkerOptions,
} from './fleet/index.js';
export { BoundedQueue } from './bounded-queue.js';
