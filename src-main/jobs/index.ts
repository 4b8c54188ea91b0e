export { AnalysisService, DEFAULT_SAMPLE_FPS, type AnalysisRequest } from './analyses.js';
export { JobQueue, type JobQueueOptions } from './job-queue.js';
export { runAnalysis, type AnalysisJob, type AnalysisHooks } from './pipeline.js';
export { BoundedQueue } from './bounded-queue.js';
