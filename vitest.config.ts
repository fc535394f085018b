import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-target tier has its own config and runner (scripts/real-target/run.sh boots the VM).
    exclude: ['test/real-target/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // CINDER_TS_DB_ENGINE=mysql: the run's MariaDB server (found or started once, see the file).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
