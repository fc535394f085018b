// Drives the Python helpers of this directory from vitest: Debian's /usr/bin/python3 (the one
// with python3-cinder / python3-cinderclient), one JSON object per line on stdin and stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PY = '/usr/bin/python3';
export const PY_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Fails with a pointer to scripts/ensure-python-deps.sh when a Debian package is missing. */
export function requirePythonModules(...modules: string[]): void {
  const r = spawnSync(PY, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${PY} cannot import ${modules.join(', ')}: run scripts/ensure-python-deps.sh\n${r.stderr ?? r.error}`);
  }
}

/** A long-lived helper: `next()` reads its next JSON line, `request()` writes one and reads one. */
export class PyHelper {
  private readonly proc: ChildProcess;
  private readonly lines: string[] = [];
  private readonly waiters: ((l: string | null) => void)[] = [];
  private closed = false;
  stderr = '';

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(PY, [path.join(PY_DIR, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.proc.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString();
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    readline.createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    this.proc.on('exit', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  async next(timeoutMs = 60_000): Promise<any> {
    let line = this.lines.shift();
    if (line === undefined) {
      line = this.closed
        ? undefined
        : ((await new Promise<string | null>((resolve, reject) => {
            const t = setTimeout(
              () => reject(new Error(`python helper: no answer in ${timeoutMs} ms\n${this.stderr.slice(-3000)}`)),
              timeoutMs,
            );
            this.waiters.push((l) => {
              clearTimeout(t);
              resolve(l);
            });
          })) ?? undefined);
    }
    if (line === undefined) throw new Error(`python helper exited (${this.proc.exitCode}):\n${this.stderr.slice(-4000)}`);
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`python helper printed a non-JSON line: ${line}\n${this.stderr.slice(-2000)}`);
    }
  }

  async request(req: Record<string, unknown>, timeoutMs?: number): Promise<any> {
    if (this.closed) throw new Error(`python helper exited (${this.proc.exitCode}):\n${this.stderr.slice(-4000)}`);
    this.proc.stdin!.write(`${JSON.stringify(req)}\n`);
    return this.next(timeoutMs);
  }

  /** Closes stdin (the helpers stop on EOF) and waits; SIGKILL after 10 s. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  }
}

/** Runs a Python CLI (e.g. Debian's `cinder`) to completion. */
export function runCli(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
