// What a route family fills in of a request (method, path, route label, body, target), and what it
// draws from. The families: volume actions, volumes, attachments, and versions/odd paths.
import type { Fixtures } from '../fixtures.js';
import type { Ids } from '../ids.js';
import type { Rng } from '../rng.js';
import type { Values } from '../values.js';

export interface Draft {
  method: string;
  path: string;
  route: string;
  body: Buffer | null;
  target: string;
  targetId?: string;
}

export interface RouteContext {
  rng: Rng;
  values: Values;
  ids: Ids;
  fx: Fixtures;
  /** The path's prefix: '/v3/<project>' (or '/v3', without a project). */
  base: string;
  /** The same in route labels: '/v3/{p}' (or '/v3'). */
  bp: string;
}

export type RouteFamily = (c: RouteContext, d: Draft) => void;

/** A volume id to aim at; the draft's target becomes it. */
export function aimVolume(c: RouteContext, d: Draft): string {
  const x = c.ids.volumeId();
  d.target = x.target;
  d.targetId = x.id;
  return x.id;
}

/** An attachment id to aim at; the draft's target becomes it. */
export function aimAttachment(c: RouteContext, d: Draft): string {
  const x = c.ids.attachmentId();
  d.target = x.target;
  d.targetId = x.id;
  return x.id;
}
