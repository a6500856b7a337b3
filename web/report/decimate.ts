/**
 * Min/max decimation per pixel column: a chart `px` wide never gets more than two points per column
 * (the column's lowest and highest value, in time order), so an hour at 1 s draws as fast as a
 * minute and no spike is lost. Missing values: `null` (a gap, drawn as one), `undefined` where a
 * series has nothing at an x another series has (spanned).
 */

/** A series as the page holds it: a view into a decoded blob. */
export type Column = Float32Array | Float64Array;

export type Values = (number | null | undefined)[];

/** First index with t[i] >= x. */
export function lowerBound(t: Column, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the sample nearest to x (-1 for no samples). */
export function nearest(t: Column, x: number): number {
  if (t.length === 0) return -1;
  const i = lowerBound(t, x);
  if (i <= 0) return 0;
  if (i >= t.length) return t.length - 1;
  return x - t[i - 1] <= t[i] - x ? i - 1 : i;
}

const val = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * [xs, ...ys] for the samples in [x0, x1] (plus one either side, so lines reach the edges), at most
 * two points per pixel column.
 */
export function decimate(t: Column, ys: readonly Column[], x0: number, x1: number, px: number): [number[], ...Values[]] {
  const i0 = Math.max(0, lowerBound(t, x0) - 1);
  const i1 = Math.min(t.length, lowerBound(t, x1) + 1);
  const n = i1 - i0;
  const cols = Math.max(1, Math.floor(px));
  if (n <= 2 * cols) {
    const xs: number[] = [];
    const out: Values[] = ys.map(() => []);
    for (let i = i0; i < i1; i++) {
      xs.push(t[i]);
      for (let s = 0; s < ys.length; s++) out[s].push(val(ys[s][i]));
    }
    return [xs, ...out];
  }
  const bw = (x1 - x0) / cols;
  const xs: number[] = [];
  const out: Values[] = ys.map(() => []);
  let i = i0;
  // The points left of x0 and right of x1 are kept as they are (their columns are off the chart).
  while (i < i1 && t[i] < x0) {
    xs.push(t[i]);
    for (let s = 0; s < ys.length; s++) out[s].push(val(ys[s][i]));
    i++;
  }
  const tail: number[] = [];
  let end = i1;
  while (end > i && t[end - 1] > x1) tail.unshift(--end);
  const lo = new Float64Array(ys.length);
  const hi = new Float64Array(ys.length);
  const loAt = new Int32Array(ys.length);
  const hiAt = new Int32Array(ys.length);
  while (i < end) {
    const b = Math.min(cols - 1, Math.floor((t[i] - x0) / bw));
    const bEnd = x0 + (b + 1) * bw;
    const start = i;
    lo.fill(Infinity);
    hi.fill(-Infinity);
    while (i < end && (t[i] < bEnd || b === cols - 1)) {
      for (let s = 0; s < ys.length; s++) {
        const v = ys[s][i];
        if (v < lo[s]) {
          lo[s] = v;
          loAt[s] = i;
        }
        if (v > hi[s]) {
          hi[s] = v;
          hiAt[s] = i;
        }
      }
      i++;
    }
    if (i - start === 1) {
      xs.push(t[start]);
      for (let s = 0; s < ys.length; s++) out[s].push(val(ys[s][start]));
      continue;
    }
    // Two x positions a column: the first and last sample of the column.
    xs.push(t[start], t[i - 1]);
    for (let s = 0; s < ys.length; s++) {
      if (lo[s] === Infinity) {
        out[s].push(null, null);
      } else if (loAt[s] <= hiAt[s]) {
        out[s].push(lo[s], hi[s]);
      } else {
        out[s].push(hi[s], lo[s]);
      }
    }
  }
  for (const j of tail) {
    xs.push(t[j]);
    for (let s = 0; s < ys.length; s++) out[s].push(val(ys[s][j]));
  }
  return [xs, ...out];
}
