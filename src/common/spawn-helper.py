"""The command executor's spawn helper: a small, long-lived process that starts the commands the
volume-manager runs and sends their results back (src/common/spawn-helper-client.ts starts it).

Why a separate process: child_process.spawn forks the calling Node process, and that fork copies
the page tables of V8's large address space while the caller's event loop is blocked (measured on a
2-core VM: 5.0 ms per spawn of /bin/true from a bare Node process, more from a loaded manager).
Python's subprocess starts children with vfork (CPython >= 3.10), which copies nothing: 2.0 ms for
the same spawn, and the helper itself stays ~10 MiB. It plays the part of Cinder's
rootwrap/privsep daemons, which also sit between cinder-volume and the commands it runs.

Protocol: one JSON object per line on stdin, one per line on stdout.
  request  {"id": n, "file": "...", "args": [...], "env": {...} | null, "timeoutMs": n}
  answer   {"id": n, "stdout": "...", "stderr": "...", "code": n | null, "signal": "SIG..." | null,
            "timedOut": bool}
        or {"id": n, "spawnError": {"code": "ENOENT", "message": "..."}}
Commands run concurrently. An answer is sent once the command has exited and both of its output
pipes are closed. When stdin closes (the manager went away) the helper exits; commands already
running go on, as they would if the manager had started them itself and died.
"""
import errno
import json
import os
import selectors
import signal
import subprocess
import sys
import time

# After SIGKILL on timeout: how long a grandchild that inherited the pipes may keep them open.
KILL_GRACE_S = 1.0


class Job:
    def __init__(self, req, proc):
        self.id = req['id']
        self.proc = proc
        self.out = []
        self.err = []
        self.open_pipes = 2
        self.timed_out = False
        timeout = req.get('timeoutMs') or 0
        self.deadline = time.monotonic() + timeout / 1000 if timeout > 0 else None
        self.grace_until = None


def send(msg):
    sys.stdout.write(json.dumps(msg) + '\n')
    sys.stdout.flush()


def text(chunks):
    return b''.join(chunks).decode('utf-8', 'replace')


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return 'SIG%d' % num


class Helper:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.jobs = set()
        self.pending = b''
        # SIGCHLD wakes the select loop through a self-pipe, so exits are seen without polling.
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.wakeup = r
        self.sel.register(r, selectors.EVENT_READ, 'wakeup')
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, 'stdin')

    def start(self, req):
        try:
            proc = subprocess.Popen(
                [req['file']] + req['args'],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=req['env'] if req.get('env') is not None else None,
            )
        except OSError as e:
            code = errno.errorcode.get(e.errno) if e.errno else None
            send({'id': req['id'], 'spawnError': {'code': code, 'message': str(e)}})
            return
        job = Job(req, proc)
        self.jobs.add(job)
        for stream, sink in ((proc.stdout, job.out), (proc.stderr, job.err)):
            os.set_blocking(stream.fileno(), False)
            self.sel.register(stream.fileno(), selectors.EVENT_READ, (job, stream, sink))

    def close_pipe(self, job, stream):
        self.sel.unregister(stream.fileno())
        stream.close()
        job.open_pipes -= 1

    def finish_if_done(self, job, force=False):
        rc = job.proc.poll()
        if not force and (rc is None or job.open_pipes > 0):
            return
        self.jobs.discard(job)
        if force:
            for stream in (job.proc.stdout, job.proc.stderr):
                if not stream.closed:
                    self.close_pipe(job, stream)
        code = rc if rc is not None and rc >= 0 else None
        sig = signal_name(-rc) if rc is not None and rc < 0 else ('SIGKILL' if force else None)
        send({'id': job.id, 'stdout': text(job.out), 'stderr': text(job.err), 'code': code,
              'signal': sig, 'timedOut': job.timed_out})

    def on_stdin(self):
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            sys.exit(0)
        self.pending += chunk
        while b'\n' in self.pending:
            line, self.pending = self.pending.split(b'\n', 1)
            if line.strip():
                self.start(json.loads(line))

    def next_timeout(self):
        times = [t for j in self.jobs for t in (j.deadline, j.grace_until) if t is not None]
        return max(0.0, min(times) - time.monotonic()) if times else None

    def on_timers(self):
        now = time.monotonic()
        for job in list(self.jobs):
            if job.grace_until is not None and now >= job.grace_until:
                self.finish_if_done(job, force=True)
            elif job.deadline is not None and now >= job.deadline:
                job.deadline = None
                job.timed_out = True
                job.grace_until = now + KILL_GRACE_S
                try:
                    job.proc.kill()
                except ProcessLookupError:
                    pass

    def run(self):
        while True:
            for key, _ in self.sel.select(self.next_timeout()):
                if key.data == 'stdin':
                    self.on_stdin()
                elif key.data == 'wakeup':
                    try:
                        os.read(self.wakeup, 4096)
                    except BlockingIOError:
                        pass
                else:
                    job, stream, sink = key.data
                    try:
                        chunk = os.read(stream.fileno(), 65536)
                    except BlockingIOError:
                        continue
                    if chunk:
                        sink.append(chunk)
                    else:
                        self.close_pipe(job, stream)
            self.on_timers()
            for job in list(self.jobs):
                self.finish_if_done(job)


if __name__ == '__main__':
    # The manager's Ctrl-C reaches the whole process group; the manager decides when we stop. A
    # Python-level handler (not SIG_IGN) so that the commands started get the default again.
    signal.signal(signal.SIGINT, lambda *_: None)
    Helper().run()
