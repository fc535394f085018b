// Peak memory of the services' process trees, from /proc: VmHWM (the kernel's high-water mark over
// the process's whole life, so it includes setup) and, from a 200 ms sampler, the highest VmRSS
// seen while a run was going (the run alone). Linux only; missing processes read as NaN.
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The role the caller gave the tree's root (api, volume, scheduler). */
  group: string;
  /** What the process is: api, api-worker, volume-manager, spawn-helper, scheduler, esbuild (tsx), … */
  label: string;
  hwmMiB: number;
  rssMiB: number;
}

function readStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** pid -> ppid of every process; the comm field may hold spaces and parens, so parse after the last ')'. */
function ppids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      out.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Every descendant of root (root included). */
export function tree(root: number, parents = ppids()): number[] {
  const kids = new Map<number, number[]>();
  for (const [p, pp] of parents) kids.set(pp, [...(kids.get(pp) ?? []), p]);
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    if (!parents.has(p) || out.includes(p)) continue;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function label(pid: number, root: number): string {
  const c = cmdline(pid);
  if (c.includes('spawn-helper.py')) return 'spawn-helper';
  if (/cmd\/api\.[jt]s/.test(c)) return pid === root ? 'api' : 'api-worker';
  if (/cmd\/volume\.[jt]s/.test(c)) return 'volume-manager';
  if (/cmd\/scheduler\.[jt]s/.test(c)) return 'scheduler';
  if (/esbuild/.test(c)) return 'esbuild (tsx)';
  return (c.split(' ')[0] ?? '?').replace(/^.*\//, '') || '?';
}

/** Per process of each root's tree: label, VmHWM, VmRSS now. */
export function snapshot(roots: Record<string, number | undefined>): ProcInfo[] {
  const parents = ppids();
  const out: ProcInfo[] = [];
  for (const [group, root] of Object.entries(roots)) {
    if (!root) continue;
    for (const pid of tree(root, parents)) {
      out.push({ pid, ppid: parents.get(pid) ?? 0, group, label: label(pid, root), hwmMiB: readStatus(pid, 'VmHWM'), rssMiB: readStatus(pid, 'VmRSS') });
    }
  }
  return out;
}

/**
 * Proportional set size: pages shared with other processes (the node binary's code, mapped by every
 * service) counted in shares, so the PSS of several processes adds up to what they hold together.
 */
function readPss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Polls VmRSS and PSS of the roots' trees every intervalMs and keeps the maximum of each per pid. */
export class RssSampler {
  readonly maxMiB = new Map<number, number>();
  readonly maxPssMiB = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly roots: () => Record<string, number | undefined>,
    private readonly intervalMs = 200,
  ) {}
  start(): this {
    const tick = () => {
      const parents = ppids();
      for (const root of Object.values(this.roots())) {
        if (!root) continue;
        for (const pid of tree(root, parents)) {
          const r = readStatus(pid, 'VmRSS');
          if (Number.isFinite(r) && r > (this.maxMiB.get(pid) ?? 0)) this.maxMiB.set(pid, r);
          const pss = readPss(pid);
          if (Number.isFinite(pss) && pss > (this.maxPssMiB.get(pid) ?? 0)) this.maxPssMiB.set(pid, pss);
        }
      }
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    return this;
  }
  stop(): Map<number, number> {
    clearInterval(this.timer);
    return this.maxMiB;
  }
}

/** utime+stime (own) and cutime+cstime (reaped children, e.g. a helper's commands) in ms, from /proc/<pid>/stat. */
function cpuOf(pid: number): { own: number; children: number } {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const tick = 10; // USER_HZ is 100 on Linux
    return { own: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick };
  } catch {
    return { own: NaN, children: NaN };
  }
}

/** The RabbitMQ node's pid (beam.smp), for its CPU; undefined when there is none here. */
export function brokerPid(): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    if (cmdline(Number(d)).includes('beam.smp') && cmdline(Number(d)).includes('rabbit')) return Number(d);
  }
  return undefined;
}

/** The MariaDB server's pid (`mariadbd`, or `mysqld` on older builds), when one runs here. */
export function dbServerPid(): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let comm = '';
    try {
      comm = fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (comm === 'mariadbd' || comm === 'mysqld') return Number(d);
  }
  return undefined;
}

/**
 * CPU time by role across the roots' trees: each service process, the commands its spawn helper
 * started (the helper's reaped children), and any extra pids given by name (the broker, the
 * database server).
 */
export function cpuByRole(roots: Record<string, number | undefined>, extra: Record<string, number | undefined> = {}): Map<string, number> {
  const parents = ppids();
  const out = new Map<string, number>();
  const add = (k: string, ms: number) => Number.isFinite(ms) && out.set(k, (out.get(k) ?? 0) + ms);
  for (const root of Object.values(roots)) {
    if (!root) continue;
    for (const pid of tree(root, parents)) {
      const l = label(pid, root);
      const c = cpuOf(pid);
      add(l === 'api-worker' ? 'api' : l, c.own);
      if (l === 'spawn-helper') add('commands (stand-ins)', c.children);
    }
  }
  for (const [k, pid] of Object.entries(extra)) if (pid) add(k, cpuOf(pid).own);
  return out;
}

/**
 * CPU of whole process trees in ms: `services` is what their live processes used themselves,
 * `commands` what the children they reaped used (the storage commands: cinder-ts's spawn helper and
 * Cinder's cinder-volume both wait for theirs), so two systems split the same way.
 */
export function treeCpu(roots: Record<string, number | undefined>): { services: number; commands: number } {
  const parents = ppids();
  let services = 0;
  let commands = 0;
  for (const root of Object.values(roots)) {
    if (!root) continue;
    for (const pid of tree(root, parents)) {
      const c = cpuOf(pid);
      if (Number.isFinite(c.own)) services += c.own;
      if (Number.isFinite(c.children)) commands += c.children;
    }
  }
  return { services, commands };
}
