import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fuzzyGraph,
  layoutByNeighbours,
  meanPositionNear,
  nearestNeighbours,
  neighboursKept,
} from '../../src-main/teaching/neighbour-layout.js';
import { fitPca, project } from '../../src-main/teaching/pca.js';
import { seededRandom } from '../../src-main/teaching/prototypes.js';

test('nearest neighbours are exact and nearest first', () => {
  // One dimension: 0, 1, 3, 7, 15.
  const lists = nearestNeighbours(Float32Array.of(0, 1, 3, 7, 15), 1, 2);
  assert.deepEqual(Array.from(lists.indices), [1, 2, 0, 2, 1, 0, 2, 1, 3, 2]);
  assert.deepEqual(Array.from(lists.distances), [1, 3, 1, 2, 2, 3, 4, 6, 8, 12]);
  assert.throws(() => nearestNeighbours(Float32Array.of(0, 1), 1, 2), /2 points of 1 values cannot give 2 neighbours/);
});

test("the fuzzy graph gives each point's nearest neighbour full membership and lists every pair both ways", () => {
  const random = seededRandom(5);
  const rows = Float32Array.from({ length: 40 * 4 }, () => random());
  const lists = nearestNeighbours(rows, 4, 5);
  const graph = fuzzyGraph(lists);
  const weightOf = new Map<string, number>();
  graph.from.forEach((i, edge) => weightOf.set(`${i}-${graph.to[edge]}`, graph.weight[edge]!));
  for (const [key, weight] of weightOf) {
    const [i, j] = key.split('-');
    assert.equal(weightOf.get(`${j}-${i}`), weight, `pair ${key} both ways with one weight`);
    assert.ok(weight > 0 && weight <= 1);
  }
  for (let i = 0; i < 40; i++) assert.ok(Math.abs(weightOf.get(`${i}-${lists.indices[i * 5]}`)! - 1) < 1e-6);
});

/**
 * Two large groups far apart on channel 0 with a wide spread on channels 1 and 2, which take PCA's three axes;
 * one of them holds two small clusters told apart only by channel 3, which PCA's axes drop.
 */
function hiddenClusters(): { rows: Float32Array; cluster: number[] } {
  const random = seededRandom(11);
  const rows: number[] = [];
  const cluster: number[] = [];
  for (let i = 0; i < 600; i++) {
    const group = i % 3; // 0: far group; 1 and 2: the small clusters in the near group
    rows.push(group === 0 ? 100 : 0, (random() - 0.5) * 40, (random() - 0.5) * 40, group === 2 ? 6 : 0);
    rows.push(...Array.from({ length: 2 }, () => (random() - 0.5) * 0.2));
    cluster.push(group);
  }
  return { rows: Float32Array.from(rows), cluster };
}

test('the layout keeps clusters that PCA squashes together, and the same rows give the same layout', () => {
  const { rows, cluster } = hiddenClusters();
  const dim = 6;
  const { positions, lists } = layoutByNeighbours(rows, dim, { neighbours: 15, epochs: 200, seed: 1 });
  const vectors = Array.from({ length: cluster.length }, (_, i) => rows.subarray(i * dim, (i + 1) * dim));
  const pca = fitPca(vectors, dim);
  const pcaPositions = Float32Array.from(vectors.flatMap((row) => project(row, pca)));
  const sameCluster = (points: Float32Array) => {
    const view = nearestNeighbours(points, 3, 10);
    let same = 0;
    view.indices.forEach((j, n) => (same += cluster[j] === cluster[Math.floor(n / 10)] ? 1 : 0));
    return same / view.indices.length;
  };
  assert.ok(sameCluster(positions) > 0.95, `layout: ${sameCluster(positions)} of neighbours in the same cluster`);
  assert.ok(sameCluster(pcaPositions) < 0.8, `PCA: ${sameCluster(pcaPositions)}`);
  assert.ok(neighboursKept(lists, positions) > neighboursKept(lists, pcaPositions));
  const again = layoutByNeighbours(rows, dim, { neighbours: 15, epochs: 200, seed: 1 });
  assert.deepEqual(again.positions, positions);
});

test('a vector outside the rows is placed at the mean position of its nearest rows', () => {
  const rows = Float32Array.from({ length: 30 }, (_, i) => i);
  const positions = Float32Array.from({ length: 90 }, (_, n) => (n % 3 === 0 ? Math.floor(n / 3) * 2 : 0));
  // Rows 0..29 at x = 0, 2, ..., 58; the 10 nearest 4.4 are rows 0..9.
  assert.deepEqual(meanPositionNear([4.4], rows, 1, positions), [9, 0, 0]);
});
