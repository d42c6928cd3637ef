import { summarize } from '../../../bench/lib/stats';

describe('summarize', () => {
  it('takes the middle sample of an odd count and the mean of the middle two of an even count', () => {
    expect(summarize([5, 1, 3])).toEqual({ runs: 3, median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });
  it('fails on no samples', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});
