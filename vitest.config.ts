import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The system tools the tests need (scripts/prerequisites.js): all present, or one message and no test runs.
    globalSetup: ['./test/support/prerequisites-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores on the CI machine; integration tests start servers.
    maxWorkers: 2,
  },
});
