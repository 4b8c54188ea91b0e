/**
 * PCA to three dimensions for the metric-space view, computed here rather than in a library: the
 * embedding is small (D ~ 10), so a Jacobi eigen-decomposition of the D x D covariance is exact and instant.
 */

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi). Returns eigenvalues descending with their vectors. */
export function symmetricEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const at = (i: number, j: number) => (a[i] as number[])[j] as number;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += at(i, j) ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(at(p, q)) < 1e-30) continue;
        const theta = (at(q, q) - at(p, p)) / (2 * at(p, q));
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        rotate(a, v, p, q, c, s);
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => at(j, j) - at(i, i));
  return {
    values: order.map((i) => at(i, i)),
    vectors: order.map((i) => v.map((row) => row[i] as number)),
  };
}

function rotate(a: number[][], v: number[][], p: number, q: number, c: number, s: number): void {
  const n = a.length;
  for (let k = 0; k < n; k++) {
    const akp = (a[k] as number[])[p] as number;
    const akq = (a[k] as number[])[q] as number;
    (a[k] as number[])[p] = c * akp - s * akq;
    (a[k] as number[])[q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = (a[p] as number[])[k] as number;
    const aqk = (a[q] as number[])[k] as number;
    (a[p] as number[])[k] = c * apk - s * aqk;
    (a[q] as number[])[k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = (v[k] as number[])[p] as number;
    const vkq = (v[k] as number[])[q] as number;
    (v[k] as number[])[p] = c * vkp - s * vkq;
    (v[k] as number[])[q] = s * vkp + c * vkq;
  }
}

export interface Projection {
  mean: number[];
  /** Three unit axes, by decreasing variance. */
  axes: number[][];
  /** Share of the total variance each axis explains. */
  explained: number[];
}

/** Fits the 3D PCA projection of rows (each of length dim). */
export function fitPca(rows: ArrayLike<number>[], dim: number): Projection {
  const mean = new Array<number>(dim).fill(0);
  for (const row of rows)
    for (let c = 0; c < dim; c++) mean[c] = (mean[c] as number) + (row[c] as number) / rows.length;
  const covariance = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (const row of rows) {
    for (let i = 0; i < dim; i++) {
      const di = (row[i] as number) - (mean[i] as number);
      const covRow = covariance[i] as number[];
      for (let j = i; j < dim; j++)
        covRow[j] = (covRow[j] as number) + (di * ((row[j] as number) - (mean[j] as number))) / rows.length;
    }
  }
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < i; j++) (covariance[i] as number[])[j] = (covariance[j] as number[])[i] as number;
  const { values, vectors } = symmetricEigen(covariance);
  const total = values.reduce((sum, value) => sum + Math.max(0, value), 0) || 1;
  const axes = vectors.slice(0, 3);
  while (axes.length < 3) axes.push(new Array<number>(dim).fill(0));
  return { mean, axes, explained: values.slice(0, 3).map((value) => Math.max(0, value) / total) };
}

/** Three chosen channels as the axes, uncentred so prototypes keep their own coordinates. */
export function channelProjection(rows: ArrayLike<number>[], dim: number, channels: readonly number[]): Projection {
  const variance = Array.from({ length: dim }, (_, c) => {
    const mean = rows.reduce((sum, row) => sum + (row[c] as number), 0) / rows.length;
    return rows.reduce((sum, row) => sum + ((row[c] as number) - mean) ** 2, 0) / rows.length;
  });
  const total = variance.reduce((a, b) => a + b, 0) || 1;
  return {
    mean: new Array<number>(dim).fill(0),
    axes: channels.map((channel) => Array.from({ length: dim }, (_, c) => (c === channel ? 1 : 0))),
    explained: channels.map((channel) => (variance[channel] as number) / total),
  };
}

/** Rows of `dim` values laid end to end, as views (no copy). */
export function rowsOf(flat: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

/** x, y, z of every row, one after another. */
export function projectAll(rows: ArrayLike<number>[], projection: Projection): Float32Array<ArrayBuffer> {
  const positions = new Float32Array(rows.length * 3);
  rows.forEach((row, i) => positions.set(project(row, projection), i * 3));
  return positions;
}

export function project(row: ArrayLike<number>, projection: Projection): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  projection.axes.forEach((axis, k) => {
    let sum = 0;
    for (let c = 0; c < axis.length; c++)
      sum += ((row[c] as number) - (projection.mean[c] as number)) * (axis[c] as number);
    out[k] = sum;
  });
  return out;
}
