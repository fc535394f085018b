// The one seam to the host: every storage command (lvm, cinder-rtstool, dd, ...) goes through a
// CommandExecutor. argv only — never a shell — with an optional root-helper prefix or an ssh target.
// Unit tests swap in a recording fake; nothing else is faked.

export interface ExecuteOptions {
  /** Prefix the configured root helper (Cinder's run_as_root=True). */
  runAsRoot?: boolean;
  /** Exit codes that count as success (default [0]). */
  checkExitCode?: number[];
  /** Per-command timeout in ms (default from config). */
  timeoutMs?: number;
  /** Extra environment (for local execution). */
  env?: Record<string, string>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CommandExecutor {
  execute(argv: readonly string[], opts?: ExecuteOptions): Promise<ExecResult>;
}

/** oslo_concurrency.processutils.ProcessExecutionError: one typed error for every failed command. */
export class ProcessExecutionError extends Error {
  constructor(
    readonly cmd: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    description = 'Unexpected error while running command.',
  ) {
    super(
      `${description}\nCommand: ${cmd}\nExit code: ${exitCode ?? '-'}\nStdout: ${JSON.stringify(stdout)}\nStderr: ${JSON.stringify(stderr)}`,
    );
    this.name = 'ProcessExecutionError';
  }
}
