import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start brokers and the app on ephemeral ports; keep the 2-core machine calm.
    pool: 'forks',
    maxWorkers: 2,
    // Safety nets, not budgets: green tests finish in seconds. On a 2-core machine that also runs
    // another suite and more (seen: 5x slower than alone), a test that waits on several outcomes
    // in turn took over 20 s; one that never comes still fails, naming what it waited for.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
