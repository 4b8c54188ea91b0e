/**
 * `npm run bench [suite ...]`: every capability's speed figures, printed side by side. To add a suite,
 * export `{ name, run }` from bench/<capability>.ts and list it in `suites` below.
 */
import { engineBench } from '../bench/engine.js';
import { exportsBench } from '../bench/exports.js';
import { fleetBench, fleetFaultsBench } from '../bench/fleet.js';
import { jobsBench } from '../bench/jobs.js';
import { metricSpaceBench } from '../bench/metric-space.js';
import { modelsBench } from '../bench/models.js';
import { serverBench } from '../bench/server.js';
import { similarBench } from '../bench/similar.js';
import { storeBench } from '../bench/store.js';
import { timelineBench } from '../bench/timeline.js';
import { transferBench } from '../bench/transfer.js';

interface BenchSuite {
  name: string;
  run(): Promise<void>;
}

const suites: BenchSuite[] = [
  engineBench,
  modelsBench,
  jobsBench,
  serverBench,
  exportsBench,
  timelineBench,
  similarBench,
  metricSpaceBench,
  storeBench,
  transferBench,
  fleetBench,
  fleetFaultsBench,
];

const wanted = process.argv.slice(2);
for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  console.log(`\n== ${suite.name} ==`);
  await suite.run();
}
