// The command executor's spawn helper: a small, long-lived Node process that starts the commands
// the volume-manager runs and sends their results back.
//
// Why a separate process: child_process.spawn forks the calling process, and the fork's cost grows
// with the caller's memory map (measured here: 1 ms from a 50 MiB process, 6 ms from 200 MiB, 15 ms
// from 550 MiB), during which the caller's event loop is blocked. The manager is a large process
// (drizzle, amqplib, pino, tsx), so every LVM/rtstool call would stall all of its RPC handling.
// This helper loads nothing but node:child_process and stays small, much like Cinder's
// rootwrap/privsep daemons sit between cinder-volume and the commands it runs.
//
// Plain JavaScript on purpose: it runs under bare `node`, without tsx or the project's modules.
//
// Protocol: one JSON object per line on stdin, one per line on stdout.
//   request  {"id": n, "file": "...", "args": [...], "env": {...} | null, "timeoutMs": n}
//   answer   {"id": n, "stdout": "...", "stderr": "...", "code": n | null, "signal": "SIG..." | null,
//             "timedOut": bool}
//         or {"id": n, "spawnError": {"code": "ENOENT", "message": "..."}}
// When stdin closes (the manager went away) the helper exits; commands already running go on,
// as they would if the manager had started them itself and died.
import { spawn } from 'node:child_process';

/** Grace period after SIGKILL for a grandchild that inherited the pipes and keeps them open. */
const KILL_GRACE_MS = 1000;

function text(bufs) {
  if (bufs.length === 0) return '';
  return bufs.length === 1 ? bufs[0].toString('utf8') : Buffer.concat(bufs).toString('utf8');
}

/** Runs one command; `done` is called exactly once with the answer (without its id). */
function runCommand(req, done) {
  let settled = false;
  let timedOut = false;
  let timer;
  const out = [];
  const err = [];
  const finish = (answer) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    done(answer);
  };

  let child;
  try {
    child = spawn(req.file, req.args, { stdio: ['ignore', 'pipe', 'pipe'], env: req.env ?? process.env });
  } catch (e) {
    finish({ spawnError: { code: e.code ?? null, message: e.message } });
    return;
  }
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  child.once('error', (e) => finish({ spawnError: { code: e.code ?? null, message: e.message } }));
  child.once('close', (code, signal) =>
    finish({ stdout: text(out), stderr: text(err), code, signal, timedOut }),
  );
  if (req.timeoutMs > 0) {
    timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      setTimeout(() => {
        if (settled) return;
        child.stdout.destroy();
        child.stderr.destroy();
        finish({ stdout: text(out), stderr: text(err), code: null, signal: 'SIGKILL', timedOut: true });
      }, KILL_GRACE_MS).unref();
    }, req.timeoutMs);
  }
}

function main() {
  let pending = '';
  const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line) continue;
      const req = JSON.parse(line);
      runCommand(req, (answer) => send({ id: req.id, ...answer }));
    }
  });
  process.stdin.on('end', () => process.exit(0));
  // The manager's Ctrl-C reaches the whole process group; the manager decides when we stop.
  process.on('SIGINT', () => {});
}

main();
