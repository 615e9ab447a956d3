// Component tests of the web UI (web/test/*.test.ts) in a simulated DOM (happy-dom): the pages
// are built for real against a stubbed fetch. Run with `npm run test:web` (part of `npm test`).
// The browser end-to-end tests stay in test/e2e (node:test + Chromium).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
    // One worker thread: the machine is shared, and these tests take well under a second each.
    pool: 'threads',
    maxWorkers: 1,
    restoreMocks: true,
    unstubGlobals: true,
  },
});
