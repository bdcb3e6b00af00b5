import { defineConfig } from 'vitest/config';

// Two suites by what they need: unit (no broker; pure logic, workers on real files, the build) and
// integration (the real RabbitMQ on 127.0.0.1:5672). Both always run.
export default defineConfig({
  // The examples import the sdk by the package's own name; here it resolves to the sources.
  ssr: { resolve: { conditions: ['regards-worker-source'] } },
  test: {
    // An uncaught exception or unhandled rejection anywhere in a run fails it (child hosts: see
    // test/integration/helpers/host.ts).
    dangerouslyIgnoreUnhandledErrors: false,
    // Fails a run that leaves temporary folders or built projects behind.
    globalSetup: ['test/leftovers.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/functions/**/*.test.ts', 'test/build/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // The broker shares the machine's two cores with the suite: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
