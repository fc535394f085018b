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
  /** Extra environment (for local execution; over ssh it is passed with `env K=V`). */
  env?: Record<string, string>;
  /**
   * Secret values (CHAP user/password...) that must never appear in logs or error messages: every
   * occurrence in the logged command line, and in a ProcessExecutionError's cmd/stdout/stderr, becomes `***`.
   */
  redact?: readonly string[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CommandExecutor {
  execute(argv: readonly string[], opts?: ExecuteOptions): Promise<ExecResult>;
}

/** Replace every occurrence of each (non-empty) secret in `text` with `***`. */
export function redactText(text: string, redact: readonly string[] | undefined): string {
  if (!redact || redact.length === 0 || !text) return text;
  let out = text;
  for (const secret of redact) {
    if (secret && out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** The argv as one loggable line, with secrets masked. */
export function formatCommand(argv: readonly string[], redact?: readonly string[]): string {
  return redactText(argv.join(' '), redact);
}

/**
 * The command could not be started at all (Python's OSError from Popen, e.g. ENOENT for a missing
 * binary). Cinder's LioAdm treats it like a failed command at start-up; nothing else catches it.
 */
export class ProcessSpawnError extends Error {
  constructor(
    readonly cmd: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`[Errno ${code ?? '?'}] ${reason}: ${cmd}`);
    this.name = 'OSError';
  }
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
