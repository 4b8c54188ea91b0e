/** Analyses on a team database run by a fleet of workers: the queue (pg-boss), their chunks and the worker. */
export { FleetQueue, type FleetQueueOptions } from './queue.js';
export { runWorker, type FleetWorker, type WorkerOptions } from './worker.js';
export { DEFAULT_CHUNK_SECONDS } from './chunks.js';
