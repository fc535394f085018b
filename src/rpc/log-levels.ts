// Dynamic log levels over RPC (os-services set-log/get-log, 3.32): cinder/volume/rpcapi.py and
// scheduler/rpcapi.py set_log_levels (cast) and get_log_levels (call), the LogLevel and
// LogLevelList objects (objects/dynamic_log.py) and the services' side (manager.py
// set_log_levels/get_log_levels). A process here has one logger, reported under the name 'cinder'.
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import type { RpcClient, Target } from './client.js';
import { K_CHANGES, K_DATA, K_NAME, K_NAMESPACE, K_VERSION, OBJ_NAMESPACE, UnknownOvo, WirePrimitive, type OvoPrimitive } from './ovo.js';
import { extractBackend } from '../objects/volume.js';

/** The name this port's one logger answers to (Cinder's package logger). */
export const LOGGER_NAME = 'cinder';
const PINO_OF: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error' };
const PY_OF: Record<string, string> = { trace: 'DEBUG', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL' };

function ovo(name: string, data: Record<string, unknown>): OvoPrimitive {
  return { [K_NAME]: name, [K_NAMESPACE]: OBJ_NAMESPACE, [K_VERSION]: '1.0', [K_DATA]: data, [K_CHANGES]: Object.keys(data) } as OvoPrimitive;
}

function dataOf(v: unknown): Record<string, unknown> {
  const p = v instanceof UnknownOvo ? v.primitive : (v as OvoPrimitive | null);
  return ((p as Record<string, unknown> | null)?.[K_DATA] as Record<string, unknown> | undefined) ?? {};
}

/** utils.get_log_levels(prefix) of this process. */
export function getLevels(log: Logger, prefix: string | null | undefined): Record<string, string> {
  return LOGGER_NAME.startsWith(prefix ?? '') ? { [LOGGER_NAME]: PY_OF[log.level] ?? 'NOTSET' } : {};
}

/** utils.set_log_levels(prefix, level): the level was checked by the API (get_log_method). */
export function setLevels(log: Logger, prefix: string | null | undefined, level: string | null | undefined): void {
  const pino = PINO_OF[String(level ?? '').toUpperCase()];
  if (pino && LOGGER_NAME.startsWith(prefix ?? '')) log.level = pino;
}

/** The RPC methods a service adds to its server (Manager.set_log_levels / get_log_levels). */
export function logLevelMethods(log: Logger) {
  return {
    set_log_levels: (_ctx: RequestContext, a: Record<string, unknown>) => {
      const req = dataOf(a.log_request);
      setLevels(log, req.prefix as string | null, req.level as string | null);
    },
    get_log_levels: (_ctx: RequestContext, a: Record<string, unknown>) => {
      const levels = getLevels(log, dataOf(a.log_request).prefix as string | null);
      const objects = Object.entries(levels).map(([prefix, level]) => ovo('LogLevel', { prefix, level }));
      return new WirePrimitive(ovo('LogLevelList', { objects }));
    },
  };
}

/** The target of a service (volume: _get_cctxt(host=…) at 3.12; scheduler: server=host at 3.7). */
function targetOf(binary: string, host: string): { target: Target; version: string } | null {
  if (binary === 'cinder-volume') {
    const backend = extractBackend(host);
    return { target: { topic: `cinder-volume.${backend}`, server: backend.split('@')[0] }, version: '3.12' };
  }
  if (binary === 'cinder-scheduler') return { target: { topic: 'cinder-scheduler', server: host }, version: '3.7' };
  return null; // cinder-backup: not part of this port
}

export class LogLevelsRpc {
  constructor(
    private readonly client: RpcClient,
    private readonly timeoutMs: number,
  ) {}

  async set(ctx: RequestContext, service: { binary: string | null; host: string | null }, prefix: string | null, level: string | null): Promise<void> {
    const t = targetOf(service.binary ?? '', service.host ?? '');
    if (!t) return;
    const logRequest = new WirePrimitive(ovo('LogLevel', { prefix, level }));
    await this.client.cast(t.target, ctx, 'set_log_levels', { log_request: logRequest }, { version: t.version });
  }

  async get(ctx: RequestContext, service: { binary: string | null; host: string | null }, prefix: string | null): Promise<Record<string, string>> {
    const t = targetOf(service.binary ?? '', service.host ?? '');
    if (!t) return {};
    const logRequest = new WirePrimitive(ovo('LogLevel', { prefix, level: null }));
    const res = await this.client.call(t.target, ctx, 'get_log_levels', { log_request: logRequest }, { version: t.version, timeoutMs: this.timeoutMs });
    const objects = (dataOf(res).objects as unknown[] | undefined) ?? [];
    return Object.fromEntries(objects.map((o) => dataOf(o)).map((d) => [String(d.prefix), String(d.level)]));
  }
}
