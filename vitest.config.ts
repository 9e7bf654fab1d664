import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests start real servers and write real files; two cores are all we have.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
