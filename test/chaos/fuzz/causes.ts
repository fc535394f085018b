// Cause classification: every 5xx is grouped by its status, its normalised fault body and the error
// lines the API and the manager logged for its request id (routes are counted apart), with the
// reproducer of the first request seen; client-side read errors are grouped by their message.
import { sleep, type Cluster } from '../../support/cluster.js';
import { reproducer } from './http.js';
import type { FiveXXCause, Req, Res } from './types.js';

/** Replace ids, request ids, numbers that vary, so that one cause groups one way. */
export function normalise(s: string): string {
  return s
    .replace(/req-[0-9a-f-]{36}/gi, 'req-<id>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b[0-9a-f]{32}\b/g, '<hex32>')
    .slice(0, 300);
}

/**
 * The error line (level >= 50) a request left in a service's log: among the lines written since the
 * request was sent (`from`), the one naming its request id, else (the root app sends no request id
 * header) the last error line of that range.
 */
function errorLine(lines: string[], from: number, requestId: string): string {
  const start = from <= lines.length ? from : Math.max(0, lines.length - 200);
  let fallback = '';
  for (let i = lines.length - 1; i >= start; i--) {
    const l = lines[i];
    let j: { level?: number; msg?: string; err?: { type?: string; message?: string } };
    try {
      j = JSON.parse(l);
    } catch {
      continue;
    }
    if ((j.level ?? 0) < 50) continue;
    const text = normalise(`${j.msg ?? ''}${j.err ? ` [${j.err.type}: ${j.err.message}]` : ''}`);
    if (requestId && l.includes(requestId)) return text;
    if (!fallback) fallback = text;
  }
  return requestId ? '' : fallback;
}

export interface ClientError {
  error: string;
  count: number;
  reproducer: string;
}

/** Where each service's log stood when a request was sent. */
export interface LogMarks {
  api: number;
  volume: number;
}

export class Causes {
  private readonly causes = new Map<string, FiveXXCause>();
  private readonly errors = new Map<string, ClientError>();

  /** A request the client could not read an answer for. */
  clientError(req: Req, res: Res): void {
    const k = normalise(res.body);
    const ce = this.errors.get(k);
    if (ce) ce.count++;
    else this.errors.set(k, { error: k, count: 1, reproducer: reproducer(req) });
  }

  /** A 5xx (or a timeout, 599): its fault and the log lines of its request id make its cause. */
  async fiveXX(cluster: Cluster, req: Req, res: Res, status: number, logFrom: LogMarks, targetState: string | undefined): Promise<void> {
    const requestId = String(res.headers['x-openstack-request-id'] ?? '');
    // Let the log lines arrive (and any late effect of the request show).
    await sleep(60);
    const fault = normalise(res.body.slice(0, 400));
    const apiLog = errorLine(cluster.logs.api, logFrom.api, requestId);
    const managerLog = requestId ? errorLine(cluster.logs.volume, logFrom.volume, requestId) : '';
    const key = `${status} :: ${fault} :: ${apiLog} :: ${managerLog}`;
    const c = this.causes.get(key);
    if (c) {
      c.count++;
      c.routes[req.route] = (c.routes[req.route] ?? 0) + 1;
    } else {
      this.causes.set(key, {
        key,
        status,
        routes: { [req.route]: 1 },
        route: req.route,
        fault,
        apiLog,
        managerLog,
        count: 1,
        reproducer: reproducer(req),
        target: `${req.target}${targetState ? ` (${targetState})` : ''}`,
      });
    }
  }

  /** The 5xx causes, most frequent first. */
  fiveXXCauses(): FiveXXCause[] {
    return [...this.causes.values()].sort((x, y) => y.count - x.count);
  }

  clientErrors(): ClientError[] {
    return [...this.errors.values()];
  }
}
