import { defineConfig } from 'vitest/config';

// Unit tests only. Without the include, vitest would also pick up compiled copies and the
// e2e suite, which has its own config (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/pack/**', 'node_modules/**'],
  },
});
