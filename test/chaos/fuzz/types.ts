// The fuzzer's options, its result and the shapes of one request and its answer.
import type http from 'node:http';
import type { AuditResult, Tally } from '../lib/audit.js';

export interface FuzzOptions {
  seed?: number;
  cases?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Re-make fixture volumes whose state drifted every this many cases (default 150). */
  refreshEvery?: number;
}

export interface FiveXXCause {
  /** status and the normalised fault + error-log texts (the cause; routes are listed apart). */
  key: string;
  status: number;
  /** Routes that hit this cause, with counts. */
  routes: Record<string, number>;
  /** The route of the first request seen (the reproducer's). */
  route: string;
  fault: string;
  /** The API's error log line for the request (msg + err type/message), normalised. */
  apiLog: string;
  /** The manager's error log line with the same request id, if any. */
  managerLog: string;
  count: number;
  reproducer: string;
  /** What the request was aimed at when it was first seen (role and volume status). */
  target: string;
}

export interface StateChange {
  status: number | string;
  route: string;
  db: string[];
  lio: string[];
  reproducer: string;
}

export interface FuzzResult {
  seed: number;
  cases: number;
  requests: Tally;
  byStatus: Record<string, number>;
  fiveXX: FiveXXCause[];
  rejected: number;
  /** Rejected requests after which the DB changed. */
  rejectedDbChanged: number;
  /** Rejected requests after which the stand-in's LIO/LVM state changed. */
  rejectedLioChanged: number;
  stateChanges: StateChange[];
  /** 5xx causes and state changes that no entry of fuzz-allow.ts explains. */
  unlisted5xx: FiveXXCause[];
  unexplainedChanges: StateChange[];
  /** Requests the client could not read an answer for (e.g. a body on a HEAD answer), grouped. */
  clientErrors: { error: string; count: number; reproducer: string }[];
  /** Routes (method + template [+ action]) hit, with counts. */
  routes: Record<string, number>;
  timeouts: number;
  processExits: { api: string | null; volume: string | null };
  processExitCount: number;
  fixtureRefreshes: number;
  audit: AuditResult;
  alive: { api: boolean; volume: boolean };
  elapsedMs: number;
  report: string;
}

export interface Req {
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | null;
  /** Send without Content-Length (chunked). */
  chunked: boolean;
  /** Route label for the figures: "POST /v3/{p}/volumes/{id}/action os-detach". */
  route: string;
  /** What the id in the path is: a fixture role, 'pool', 'missing', 'malformed'. */
  target: string;
  targetId?: string;
}

export interface Res {
  status: number | 'timeout' | 'error';
  headers: http.IncomingHttpHeaders;
  body: string;
}
