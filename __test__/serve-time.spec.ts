/**
 * The read API's bucket times: `isoOfMs` (the date part made once a day) equals
 * `Date.prototype.toISOString` for every time it is given: runs of bucket times across days,
 * random times (fractional, negative, far years), and the edges of days.
 */
import { describe, expect, it } from 'vitest';

import { isoOfMs } from '../lib/serve/time.js';
import { rng } from './support/rng.js';

describe('isoOfMs', () => {
  it('equals toISOString: steps across midnights, random times, fractional and negative ms, day edges', () => {
    const times: number[] = [];
    // Buckets of 4 s, 1 min and 1 h over several days from a time that is not whole ms.
    for (const step of [4000, 60_000, 3_600_000]) for (let i = 0; i < 3000; i++) times.push(1_764_000_000_123.456 + i * step);
    const next = rng(17);
    for (let i = 0; i < 20_000; i++) times.push((next() - 0.3) * 4e14, Math.floor(next() * 2e12), (next() - 0.5) * 8.64e15);
    for (const d of [-2, -1, 0, 1, 20_000, 2_932_896]) for (const off of [-1.5, -1, -0.5, 0, 0.5, 1, 999, 86_399_999.9]) times.push(d * 86_400_000 + off);
    const wrong = times.filter((t) => isoOfMs(t) !== new Date(t).toISOString());
    expect(wrong.map((t) => [t, isoOfMs(t), new Date(t).toISOString()])).toEqual([]);
  });
});
