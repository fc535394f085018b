// One request to cinder-api with a Keystone token (and a microversion), its answer read whole.
import { CinderClient } from '../../support/cluster.js';

export interface Answer {
  status: number;
  text: string;
  json: any;
}

export async function http(base: string, method: string, p: string, token: string, body?: unknown, version?: string, extra: Record<string, string> = {}): Promise<Answer> {
  const h: Record<string, string> = { ...extra };
  if (version) h['OpenStack-API-Version'] = `volume ${version}`;
  return new CinderClient(base, '', 'isolation', { 'X-Auth-Token': token }).request(method, p, body, h);
}

export function must(a: Answer, status: number, what: string): Answer {
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status} ${a.text}`);
  return a;
}
