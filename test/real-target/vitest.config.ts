// The real-target tier's own vitest config: only test/real-target, one file at a time (one VM, a
// 2-core host), and timeouts sized for TCG emulation on a loaded CI machine (a cinder-rtstool call
// takes 2-7 s there, a full attach/detach cycle ~10 of them). Run it through
// scripts/real-target/run.sh, which boots the VM and sets CINDER_TS_VM_ENV.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default defineConfig({
  root,
  test: {
    include: ['test/real-target/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    // A flaky emulated host should not hide a real failure, so no retries: every scenario is
    // written to wait for the state it needs instead.
    retry: 0,
  },
});
