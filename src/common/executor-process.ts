// The real CommandExecutor: an argv (never a shell), like oslo_concurrency.processutils.execute,
// started by the spawn helper process (spawn-helper.py) so that forking never stalls the manager. Commands run as root get the configured root helper in
// front (split on whitespace, as processutils does with shlex). In ssh mode the whole line, root
// helper included, runs on the storage host through one multiplexed ssh connection (ControlMaster),
// each argument shell-quoted because ssh hands the remote side a single command string.
//
// This is the hot path of every attach/detach, so it does as little as possible per call: no shell,
// no stdin pipe, output decoded once in the helper, log lines built only when debug is on.
import type { Logger } from './log.js';
import {
  type CommandExecutor,
  type ExecResult,
  type ExecuteOptions,
  ProcessExecutionError,
  ProcessSpawnError,
  formatCommand,
  redactText,
} from './executor.js';
import { SpawnHelperClient } from './spawn-helper-client.js';
import { commandDuration, commandFailures, commandLabel, since } from './metrics.js';

export interface SshTarget {
  host: string;
  user: string;
  port: number;
  privateKey?: string;
  /** ssh ControlPath; may use ssh's own tokens (e.g. `%C`). Keep it short: it is a unix socket path. */
  controlPath: string;
}

export interface ProcessExecutorOptions {
  /** `[DEFAULT] root_helper`, e.g. `sudo cinder-rootwrap /etc/cinder/rootwrap.conf`; empty means none. */
  rootHelper?: string;
  /** Used when a call gives no timeoutMs; 0 or undefined means no timeout. */
  defaultTimeoutMs?: number;
  /** Run every command on this host instead of locally. */
  ssh?: SshTarget;
  logger?: Logger;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting of one word: safe words as they are, anything else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function splitWords(s: string | undefined): string[] {
  if (!s) return [];
  const t = s.trim();
  return t ? t.split(/\s+/) : [];
}

export class ProcessExecutor implements CommandExecutor {
  private readonly rootHelper: string[];
  private readonly sshPrefix: string[] | null;
  private readonly defaultTimeoutMs: number;
  private readonly logger: Logger | undefined;
  /** Commands are started by a small helper process (spawn-helper.py says why). */
  private readonly helper = new SpawnHelperClient();

  constructor(opts: ProcessExecutorOptions = {}) {
    this.rootHelper = splitWords(opts.rootHelper);
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 0;
    this.logger = opts.logger;
    const ssh = opts.ssh;
    this.sshPrefix = ssh
      ? [
          'ssh',
          '-o', 'ControlMaster=auto',
          '-o', `ControlPath=${ssh.controlPath}`,
          '-o', 'ControlPersist=60',
          '-o', 'BatchMode=yes',
          '-o', 'StrictHostKeyChecking=no',
          '-o', 'UserKnownHostsFile=/dev/null',
          '-p', String(ssh.port),
          ...(ssh.privateKey ? ['-i', ssh.privateKey] : []),
          `${ssh.user}@${ssh.host}`,
          '--',
        ]
      : null;
  }

  /** The argv actually spawned for `argv` (root helper, env and ssh applied). */
  buildArgv(argv: readonly string[], opts: ExecuteOptions = {}): string[] {
    let cmd: string[] = argv as string[];
    if (this.sshPrefix && opts.env) {
      // Environment does not travel over ssh: pass it with env(1), after the root helper (sudo
      // would reset it otherwise).
      const assigns = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
      cmd = ['env', ...assigns, ...cmd];
    }
    if (opts.runAsRoot && this.rootHelper.length > 0) cmd = [...this.rootHelper, ...cmd];
    if (this.sshPrefix) return [...this.sshPrefix, cmd.map(shellQuote).join(' ')];
    return cmd === argv ? [...argv] : cmd;
  }

  execute(argv: readonly string[], opts: ExecuteOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) return Promise.reject(new Error('execute: empty argv'));
    const full = this.buildArgv(argv, opts);
    const logger = this.logger;
    const debug = logger !== undefined && logger.isLevelEnabled('debug');
    const started = debug ? performance.now() : 0;
    if (debug) logger.debug({ cmd: formatCommand(full, opts.redact) }, 'Running cmd (subprocess)');
    const accepted = opts.checkExitCode ?? [0];
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const env = opts.env && !this.sshPrefix ? { ...process.env, ...opts.env } : undefined;

    const answer = this.helper.run({ file: full[0], args: full.slice(1), env: env ?? null, timeoutMs });
    const label = commandLabel(argv);
    const t0 = performance.now();
    const done = answer.then((a) => {
      const cmd = () => formatCommand(full, opts.redact);
      if ('spawnError' in a) {
        if (debug) logger.debug({ cmd: cmd(), error: a.spawnError.message }, 'Command could not be started');
        throw new ProcessSpawnError(cmd(), a.spawnError.code ?? undefined, a.spawnError.message);
      }
      const exitCode = a.code ?? (a.signal ? -signalNumber(a.signal) : -1);
      if (debug) {
        logger.debug({ cmd: cmd(), exit_code: exitCode, ms: Math.round(performance.now() - started) }, 'CMD returned');
      }
      if (a.timedOut) {
        throw new ProcessExecutionError(
          cmd(),
          null,
          redactText(a.stdout, opts.redact),
          redactText(a.stderr, opts.redact),
          `Command timed out after ${timeoutMs} ms and was killed.`,
        );
      }
      if (!accepted.includes(exitCode)) {
        throw new ProcessExecutionError(cmd(), exitCode, redactText(a.stdout, opts.redact), redactText(a.stderr, opts.redact));
      }
      return { stdout: a.stdout, stderr: a.stderr, exitCode };
    }, (e: Error) => {
      // The helper died with the command in flight: like a command killed under us.
      throw new ProcessExecutionError(formatCommand(full, opts.redact), null, '', '', e.message);
    });
    done.then(
      () => commandDuration.observe({ command: label }, since(t0)),
      () => {
        commandDuration.observe({ command: label }, since(t0));
        commandFailures.inc({ command: label });
      },
    );
    return done;
  }

  /** Stops the spawn helper (at shutdown); a later execute starts a new one. */
  close(): void {
    this.helper.close();
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** processutils reports a signal death as a negative exit code (subprocess' returncode). */
function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? 1;
}

/**
 * The executor a backend section asks for: local, or over ssh when `ssh_host` is set. The root helper
 * comes from `[DEFAULT] root_helper`, the timeout from the backend's `command_timeout` (seconds; unset: none).
 */
export function createBackendExecutor(
  backend: {
    ssh_host?: string;
    ssh_user: string;
    ssh_port: number;
    ssh_private_key?: string;
    command_timeout?: number;
  },
  defaults: { root_helper: string },
  opts: { logger?: Logger; controlPath?: string } = {},
): ProcessExecutor {
  return new ProcessExecutor({
    rootHelper: defaults.root_helper,
    defaultTimeoutMs: backend.command_timeout ? backend.command_timeout * 1000 : undefined,
    logger: opts.logger,
    ssh: backend.ssh_host
      ? {
          host: backend.ssh_host,
          user: backend.ssh_user,
          port: backend.ssh_port,
          privateKey: backend.ssh_private_key,
          controlPath: opts.controlPath ?? `/tmp/cinder-ts-ssh-%C`,
        }
      : undefined,
  });
}
