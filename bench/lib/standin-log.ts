// The recording stand-in's log (test/stand-ins/root-helper: one JSON line per storage command, with
// its argv and bash EPOCHREALTIME start/end) joined with the client's detach samples, to split a
// detach's latency into the commands' own run time and everything else (HTTP, RPC, DB, locks).
import fs from 'node:fs';
import type { DetachSample } from './flows.js';

export interface StandinCall {
  argv: string[];
  t_start: number;
  t_end: number;
  rc?: number;
}

export function readStandinLog(file: string): StandinCall[] {
  if (!fs.existsSync(file)) return [];
  const out: StandinCall[] = [];
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l) as StandinCall);
    } catch {
      // a line cut short by a concurrent append: skip it rather than fail the report
    }
  }
  return out;
}

const ms = (c: StandinCall) => (c.t_end - c.t_start) * 1000;
const mentions = (c: StandinCall, id: string) => c.argv.some((a) => a.includes(id));

/** argv with the volume's id and the initiator replaced, so two systems' sequences compare. */
export function normalise(argv: string[], volumeId: string, initiator?: string): string {
  return argv
    .map((a) => {
      let s = a.split(volumeId).join('<vol>');
      if (initiator) s = s.split(initiator).join('<initiator>');
      return s;
    })
    .join(' ');
}

export interface PerDetach {
  volumeId: string;
  /** The commands' own run time attributed to this detach (ms). */
  cmdMs: number;
  /** totalMs - cmdMs */
  overheadMs: number;
  argv: string[];
}
export interface Attribution {
  /** 'window': each detach owns the calls inside its [startedAt, endedAt] (exact for 1 client). 'volume-id': by id in argv. */
  mode: 'window' | 'volume-id';
  perDetach: PerDetach[];
  /** Calls no detach owns (volume-id mode: those without a volume id, e.g. save, get-targets), by program + subcommand. */
  shared: { kind: string; calls: number; ms: number }[];
  totalCalls: number;
  totalCmdMs: number;
}

/**
 * Attribute the logged commands to detaches. With one client the detaches do not overlap, so a
 * call belongs to the detach whose window it overlaps; with more, only a volume id in the argv
 * (the target IQN carries it) says whose call it is, and the rest are host totals.
 */
export function attribute(calls: StandinCall[], samples: DetachSample[], clients: number, initiators: Map<string, string> = new Map()): Attribution {
  const mode = clients <= 1 ? 'window' : 'volume-id';
  const owned = new Set<StandinCall>();
  const perDetach = samples.map((s) => {
    const mine = calls.filter((c) => (mode === 'window' ? c.t_start < s.endedAt && c.t_end > s.startedAt : mentions(c, s.volumeId)));
    mine.forEach((c) => owned.add(c));
    const cmdMs = mine.reduce((a, c) => a + ms(c), 0);
    return { volumeId: s.volumeId, cmdMs, overheadMs: s.totalMs - cmdMs, argv: mine.map((c) => normalise(c.argv, s.volumeId, initiators.get(s.volumeId))) };
  });
  const shared = new Map<string, { kind: string; calls: number; ms: number }>();
  for (const c of calls) {
    if (owned.has(c)) continue;
    const kind = c.argv.slice(0, 2).map((a) => a.replace(/^.*\//, '')).join(' ');
    const e = shared.get(kind) ?? { kind, calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms(c);
    shared.set(kind, e);
  }
  return { mode, perDetach, shared: [...shared.values()], totalCalls: calls.length, totalCmdMs: calls.reduce((a, c) => a + ms(c), 0) };
}
