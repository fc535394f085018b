// The Fastify app as the unit tests build it: Keystone auth where the token names the caller, a
// silent logger, and a volume API that is either the test's own or one that must not be reached
// (the routes under test answer from the database alone).
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/api/app.js';
import type { Authenticator } from '../../src/api/auth.js';
import { parseConfig } from '../../src/common/config.js';
import { makeContext } from '../../src/common/context.js';
import type { Db } from '../../src/db/client.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';
import { openFreshDb, type DbEngine } from './db.js';

/**
 * The token is the caller: `admin` is admin + member + reader of `project`, any other token member +
 * reader of it, unless `others` gives that token its own roles or project.
 */
export function tokenAuthenticator(project: string, others: Record<string, { roles?: string[]; project?: string }> = {}): Authenticator {
  return {
    strategy: 'keystone',
    authenticate: (req) => {
      const who = String(req.headers['x-auth-token'] ?? '');
      const roles = who === 'admin' ? ['admin', 'member', 'reader'] : (others[who]?.roles ?? ['member', 'reader']);
      const ctx = makeContext({ user_id: who, project_id: others[who]?.project ?? project, roles, is_admin: who === 'admin' });
      return { ok: true, ctx };
    },
  };
}

/** A volume API whose every method throws: for routes that must not use it. */
export function unreachableVolumeApi(): VolumeApiSurface {
  const fail = () => {
    throw new Error('must not be reached');
  };
  return {
    get: fail, getAll: fail, create: fail, getVolumeType: fail, delete: fail, reserveVolume: fail, unreserveVolume: fail,
    beginDetaching: fail, rollDetaching: fail, attach: fail, detach: fail, initializeConnection: fail, terminateConnection: fail,
  };
}

/** buildApp with `[DEFAULT] auth_strategy = keystone` (or `config`), a silent logger and, by default, an unreachable volume API. */
export function testApp(opts: Partial<BuildAppOptions> & { authenticator: Authenticator }): FastifyInstance {
  return buildApp({
    volumeApi: unreachableVolumeApi(),
    config: parseConfig('[DEFAULT]\nauth_strategy = keystone\n'),
    logger: pino({ level: 'silent' }),
    ...opts,
  });
}

/**
 * A fresh database on `engine` (default: CINDER_TS_DB_ENGINE's) and the app over it, with an
 * unreachable volume API; close() closes both and removes the database.
 */
export async function appOnFreshDb(
  authenticator: Authenticator,
  engine?: DbEngine,
): Promise<{ db: Db; app: FastifyInstance; close(): Promise<void> }> {
  const fresh = await openFreshDb(engine);
  const app = testApp({ authenticator, db: fresh.db });
  return {
    db: fresh.db,
    app,
    async close() {
      await app.close();
      await fresh.remove();
    },
  };
}

export interface Answer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  body: string;
  headers: Record<string, unknown>;
}

/**
 * One request to `app` with the token (default `admin`), a microversion, and a JSON body (or `raw`
 * text); json is the answer's document, undefined when it is none.
 */
export async function request(
  app: FastifyInstance,
  method: string,
  url: string,
  opts: { token?: string; version?: string; body?: unknown; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { host: 'localhost', 'x-auth-token': opts.token ?? 'admin' };
  if (opts.version) headers['openstack-api-version'] = `volume ${opts.version}`;
  let payload: string | undefined;
  if (opts.body !== undefined || opts.raw !== undefined) {
    headers['content-type'] = 'application/json';
    payload = opts.raw ?? JSON.stringify(opts.body);
  }
  const r = await app.inject({ method: method as 'GET', url, headers, payload });
  let json: unknown;
  try {
    json = r.body ? JSON.parse(r.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, json, body: r.body, headers: r.headers };
}
