import { describe, expect, test } from 'vitest';
import { cpuMillicores, memoryBytes } from '../../bench/cgroup.js';

// The limited benchmark run reads the CronJob's limits from dist/ as Kubernetes quantities.
describe('the quantities the limited benchmark run reads from dist/', () => {
  test.each([
    ['100m', 100],
    ['250m', 250],
    ['0.5', 500],
    ['1', 1000],
    ['2', 2000],
  ])('CPU %s is %d millicores', (quantity, millicores) => {
    expect(cpuMillicores(quantity)).toBe(millicores);
  });

  test.each([
    ['128Mi', 128 * 1024 * 1024],
    ['64Mi', 64 * 1024 * 1024],
    ['1Gi', 1024 * 1024 * 1024],
    ['500M', 500_000_000],
    ['1048576', 1_048_576],
  ])('memory %s is %d bytes', (quantity, bytes) => {
    expect(memoryBytes(quantity)).toBe(bytes);
  });

  test.each(['100x', '', 'one', '-1'])('"%s" is refused with the quantity named', (quantity) => {
    expect(() => cpuMillicores(quantity)).toThrow(`"${quantity}"`);
    expect(() => memoryBytes(quantity)).toThrow(`"${quantity}"`);
  });
});
