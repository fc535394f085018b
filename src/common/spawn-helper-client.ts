// The manager's side of the spawn helper (spawn-helper.py, which says why it exists): starts the
// helper on first use, sends it one request per command and matches the answers by id. If the
// helper dies, the commands it had in flight fail (they may or may not have run, exactly as when a
// command's own process dies) and the next command starts a new helper.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

const HELPER = fileURLToPath(new URL('./spawn-helper.py', import.meta.url));

/**
 * Debian's interpreter, the one cinder-rtstool (python3-rtslib-fb) runs on, when it is there;
 * otherwise the first python3 on PATH. `CINDER_TS_PYTHON` overrides both.
 */
export function helperPython(): string {
  if (process.env.CINDER_TS_PYTHON) return process.env.CINDER_TS_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface SpawnRequest {
  file: string;
  args: string[];
  /** The complete environment; null means the helper's own (the manager's at start). */
  env: NodeJS.ProcessEnv | null;
  /** 0: no timeout. */
  timeoutMs: number;
}

/** How a command ended, as the helper saw it. */
export type SpawnAnswer =
  | { stdout: string; stderr: string; code: number | null; signal: string | null; timedOut: boolean }
  | { spawnError: { code: string | null; message: string } };

/** The helper with its piped stdin and stdout (a pipe is a net.Socket, which can be unref'd). */
type Helper = ChildProcessByStdio<Writable, Socket, null>;

type Pending = { resolve: (a: SpawnAnswer) => void; reject: (e: Error) => void };

export class SpawnHelperError extends Error {
  override name = 'SpawnHelperError';
}

export class SpawnHelperClient {
  private child: Helper | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';

  run(req: SpawnRequest): Promise<SpawnAnswer> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise<SpawnAnswer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // While a command is in flight the helper's pipe keeps this process alive; idle, it does not.
      if (this.pending.size === 1) child.stdout.ref();
      child.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** Stops the helper; commands in flight are failed. */
  close(): void {
    const child = this.child;
    if (!child) return;
    this.detach(child, new SpawnHelperError('the spawn helper was stopped'));
    child.stdin.end();
  }

  private start(): Helper {
    // -I: isolated (no user site, no PYTHON* variables), -S: no site module; -u: unbuffered.
    const child = spawn(helperPython(), ['-I', '-S', '-u', HELPER], { stdio: ['pipe', 'pipe', 'inherit'] }) as unknown as Helper;
    this.child = child;
    this.buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    const gone = (why: string) => this.detach(child, new SpawnHelperError(`the spawn helper ${why}`));
    child.once('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    child.once('error', (e) => gone(`failed: ${e.message}`));
    child.stdin.on('error', () => {}); // a dead helper's EPIPE; 'exit' reports it
    child.unref();
    child.stdout.unref();
    return child;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (!line) continue;
      const { id, ...answer } = JSON.parse(line) as { id: number } & SpawnAnswer;
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.child?.stdout.unref();
      p.resolve(answer as SpawnAnswer);
    }
  }

  private detach(child: Helper, err: Error): void {
    if (this.child !== child) return;
    this.child = null;
    child.stdout.unref();
    const failed = [...this.pending.values()];
    this.pending.clear();
    for (const p of failed) p.reject(err);
  }
}
