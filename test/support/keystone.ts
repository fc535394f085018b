// The project's own real Keystone (scripts/keystone/start.sh: Debian's keystone on 127.0.0.1 with
// SQLite), for the tests and chaos scripts that run cinder-api with auth_strategy = keystone:
// installing it (or the reason to skip), starting and stopping it, password tokens, and the
// [keystone_authtoken] section that points cinder-api at it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, freePort } from './cluster.js';

export const KEYSTONE_START = path.join(REPO, 'scripts/keystone/start.sh');
export const KEYSTONE_STOP = path.join(REPO, 'scripts/keystone/stop.sh');

export interface KsUser {
  id: string;
  name: string;
  password: string;
  project_id: string;
  project_name: string;
}

/** What scripts/keystone/start.sh prints, and the directory it runs in. */
export interface KeystoneInfo {
  url: string;
  auth_url: string;
  pid: number;
  dir: string;
  projects: { admin: string; a: string; b: string; service: string };
  /** `nova` only with KEYSTONE_NOVA_PORT set. */
  users: { admin: KsUser; member: KsUser; member_b: KsUser; service: KsUser; nova?: KsUser };
  seconds: Record<string, number>;
}

/**
 * Runs `<script> --install-only` (scripts/keystone/start.sh, scripts/nova/start.sh): the reason to skip
 * when the package cannot be installed here (exit 75; `cannot` when it says nothing), else null.
 */
export function installOnly(script: string, cannot: string): string | null {
  const r = spawnSync('bash', [script, '--install-only'], { encoding: 'utf8', timeout: 900_000 });
  if (r.status === 75) return r.stderr.trim() || cannot;
  if (r.status !== 0) throw new Error(`${path.relative(REPO, script)} --install-only failed (${r.status}): ${r.stderr}`);
  return null;
}

/** Installs Debian's keystone when missing: the reason to skip (exit 75), or null when it is there. */
export function keystoneSkipReason(): string | null {
  return installOnly(KEYSTONE_START, 'keystone cannot be installed');
}

export interface StartKeystoneOptions {
  /** Prefix of its temporary directory. */
  tmpPrefix?: string;
  /** Its port (default: a free one). */
  port?: number;
  /** More environment for start.sh (e.g. KEYSTONE_NOVA_PORT); KEYSTONE_WATCH_PID is this process. */
  env?: Record<string, string>;
}

export async function startKeystone(opts: StartKeystoneOptions = {}): Promise<KeystoneInfo> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix ?? 'cinder-ts-keystone-'));
  const port = opts.port ?? (await freePort());
  const r = spawnSync('bash', [KEYSTONE_START, dir, String(port)], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, KEYSTONE_WATCH_PID: String(process.pid), ...opts.env },
  });
  if (r.status !== 0) {
    spawnSync('bash', [KEYSTONE_STOP, dir]);
    throw new Error(`scripts/keystone/start.sh failed (${r.status}): ${r.stderr}`);
  }
  return { ...(JSON.parse(r.stdout) as KeystoneInfo), dir };
}

export function stopKeystone(ks: KeystoneInfo): void {
  spawnSync('bash', [KEYSTONE_STOP, ks.dir]);
  if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(ks.dir, { recursive: true, force: true });
}

/**
 * A password token of `u`, scoped to its project unless `scoped` is false, without the service
 * catalog unless `catalog` is true (a token that must bring X-Service-Catalog).
 */
export async function passwordToken(ks: KeystoneInfo, u: KsUser, opts: { scoped?: boolean; catalog?: boolean } = {}): Promise<string> {
  const auth: Record<string, unknown> = {
    identity: { methods: ['password'], password: { user: { name: u.name, domain: { id: 'default' }, password: u.password } } },
  };
  if (opts.scoped ?? true) auth.scope = { project: { id: u.project_id } };
  const r = await fetch(`${ks.auth_url}/auth/tokens${opts.catalog ? '' : '?nocatalog'}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth }),
  });
  if (r.status !== 201) throw new Error(`token for ${u.name}: ${r.status} ${await r.text()}`);
  return r.headers.get('x-subject-token')!;
}

/** keystonemiddleware gives up on the first failed request to Keystone (no retries). */
export const NO_RETRIES = 'http_request_max_retries = 0';

/** [keystone_authtoken] with the service user, validating at `authUrl` (default Keystone's own), then `lines`. */
export function authtokenSection(ks: KeystoneInfo, opts: { authUrl?: string; lines?: string[] } = {}): string {
  const s = ks.users.service;
  return [
    '[keystone_authtoken]',
    `www_authenticate_uri = ${ks.url}`,
    'auth_type = password',
    `auth_url = ${opts.authUrl ?? ks.auth_url}`,
    `username = ${s.name}`,
    `password = ${s.password}`,
    'user_domain_name = Default',
    `project_name = ${s.project_name}`,
    'project_domain_name = Default',
    ...(opts.lines ?? []),
  ].join('\n');
}
