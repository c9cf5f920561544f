import { defineConfig } from 'vitest/config';

// The packed package, installed into a temporary project (test/pack/): slower than the unit
// tests (npm pack builds, npm ci installs, tsc compiles), but needs no cluster or AWS.
export default defineConfig({
  test: {
    include: ['test/pack/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
