import { describe, expect, test } from 'vitest';
import { CronSyntaxError, parseCron, runGaps } from '../../src/validation/cron.js';

const gaps = (schedule: string) => runGaps(parseCron(schedule));

describe('runGaps', () => {
  test.each([
    ['0 */6 * * *', 6 * 60, 6 * 60],
    ['0 */13 * * *', 13 * 60, 11 * 60],
    ['0 0,12 * * *', 12 * 60, 12 * 60],
    ['0 */11 * * *', 11 * 60, 2 * 60],
    ['30 1-23/4 * * *', 4 * 60, 4 * 60],
    ['*/30 * * * *', 30, 30],
    ['0 * * * *', 60, 60],
    ['@hourly', 60, 60],
    ['@daily', 24 * 60, 24 * 60],
    ['0 */6 * * 1-5', (2 * 24 + 6) * 60, 6 * 60],
    ['0 */6 * * SUN-SAT', 6 * 60, 6 * 60],
    ['0 */6 * * 0-7', 6 * 60, 6 * 60],
    ['0 */6 1-31 * *', 6 * 60, 6 * 60],
    ['0 */6 * 1-6 *', (184 * 24 + 6) * 60, 6 * 60],
    ['* */6 * * *', 5 * 60 + 1, 1],
  ])('%s: longest %i min, shortest %i min', (schedule, longest, shortest) => {
    expect(gaps(schedule)).toEqual({ longestMinutes: longest, shortestMinutes: shortest });
  });

  test('day-of-month and day-of-week both restricted run on either (cron OR rule)', () => {
    // Every Monday plus the 1st: the longest gap is a week, not a month.
    expect(gaps('0 0 1 * 1').longestMinutes).toBe(7 * 24 * 60);
  });

  test('a schedule that never fires has no finite gap', () => {
    expect(gaps('0 0 30 2 *').longestMinutes).toBe(Infinity);
  });
});

describe('parseCron', () => {
  test.each([
    ['61 * * * *', 'minute field has 61, outside 0-59'],
    ['0 24 * * *', 'hour field has 24, outside 0-23'],
    ['0 */6 * *', 'it has 4 fields; a schedule has 5 (minute hour day-of-month month day-of-week)'],
    ['0 */0 * * *', 'hour field has step "/0"; a step is a positive number'],
    ['0 6-1 * * *', 'hour field has range "6-1", which runs backwards'],
    ['0 x * * *', 'hour field has "x", which is not a number'],
    ['@every 6h', '"@every 6h" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
    ['TZ=UTC 0 */6 * * *', 'time zone prefixes are rejected by Kubernetes CronJobs'],
  ])('%s -> %s', (schedule, message) => {
    expect(() => parseCron(schedule)).toThrow(new CronSyntaxError(message));
  });
});
