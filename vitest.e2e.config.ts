import { defineConfig } from 'vitest/config';

// End-to-end suite: a real kube-apiserver + etcd (started once in globalSetup), moto, busybox.
// Files run one after another: they share the control plane and the machine has few cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/harness/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
