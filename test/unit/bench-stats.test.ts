import { median, percentile, ratio, summarize } from '../bench/stats.js';

describe('bench arithmetic (npm run bench; no test here measures speed)', () => {
  it('takes percentiles by nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 1)).toBe(1);
    // Ten samples: p50 is the 5th, p99 rounds up to the 10th (the largest), p10 the 1st.
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 99)).toBe(10);
    expect(percentile(ten, 10)).toBe(1);
    expect(percentile(ten, 11)).toBe(2);
    expect(percentile([42], 50)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
  });

  it('refuses a percentile outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('summarizes unsorted latencies: successes per second, p50, p99', () => {
    const latencies = [30, 10, 20, 40, 1000, 50, 60, 70, 80, 90];
    const summary = summarize(latencies, 2, 3);
    expect(summary).toEqual({ count: 10, errors: 3, seconds: 2, perSecond: 5, p50: 50, p99: 1000 });
    expect(latencies[0]).toBe(30); // the caller's array is left as it was
    expect(median([3, 1, 2])).toBe(2);
  });

  it('gives no figure for an empty or instant run', () => {
    const empty = summarize([], 0, 0);
    expect(empty.perSecond).toBeNaN();
    expect(empty.p50).toBeNaN();
  });

  it('divides ours by theirs, and has no ratio when a side has no figure', () => {
    expect(ratio(300, 1200)).toBe(0.25);
    expect(ratio(12, 4)).toBe(3);
    expect(ratio(undefined, 4)).toBeUndefined();
    expect(ratio(4, undefined)).toBeUndefined();
    expect(ratio(4, 0)).toBeUndefined();
    expect(ratio(Number.NaN, 4)).toBeUndefined();
  });
});
