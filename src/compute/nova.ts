// cinder/compute/nova.py, for two Nova calls: the volume-manager's `volume-extended` event after an
// in-use volume grows (extend_volume, _send_events), and get_server_volume on the detach path, which the
// OSSA-2023-003 guard (attachment_deletion_allowed) makes to learn whether Nova still uses an
// attachment. Like Cinder's novaclient() it authenticates again with the caller's own token
// (keystoneauth's Token plugin, scoped to the caller's project) at `[nova] token_auth_url`, or at the
// identity endpoint of the caller's service catalog, finds the compute endpoint of `[nova] interface`
// / `region_name` in the new token's catalog, and asks
// GET /servers/{server_id}/os-volume_attachments/{volume_id} at compute microversion 2.89 (the first
// that shows attachment_id). With `[service_user] send_service_user_token` the service user's token
// goes along as X-Service-Token, as keystoneauth's ServiceTokenAuthWrapper sends it.
//
// Errors keep Cinder's outcome at the API: a Nova answer other than 200 is novaclient's
// ClientException, whose `code` FaultWrapper turns into that status (404 is NotFound, which the guard
// treats as "not attached"); identity failures and a missing endpoint carry no code, so 500.
// (Cinder's privileged client, `[nova] auth_type` and its password options, is not ported: the
// events go with the caller's token, as Cinder sends them when `[nova] auth_type` is unset.)
import fs from 'node:fs';
import { ConfigError, serviceUserSettings, type CinderConfig } from '../common/config.js';
import type { RequestContext } from '../common/context.js';
import { nodeRequester, type HttpRequester } from '../common/http.js';
import { IdentityClient, v3Base } from '../common/keystone-client.js';
import type { Logger } from '../common/log.js';
import type { MessageApi } from '../message/api.js';
import { Action, Detail } from '../message/message-field.js';

/** The compute microversion Cinder asks for: 2.89 adds attachment_id to os-volume_attachments. */
export const NOVA_API_VERSION = '2.89';

export interface NovaSettings {
  /** `[nova] region_name`: only endpoints of this region (any region when unset). */
  regionName?: string;
  /** `[nova] interface`: public, internal or admin. */
  interface: 'public' | 'internal' | 'admin';
  /** `[nova] token_auth_url`: where the caller's token is exchanged; else the catalog's identity endpoint. */
  tokenAuthUrl?: string;
  /** `[nova] timeout` in ms (keystoneauth session timeout); undefined: none. */
  timeoutMs?: number;
}

export interface NovaDeps {
  requester: HttpRequester;
  logger?: Logger;
  /** The service user's token, when `[service_user] send_service_user_token` is set. */
  serviceToken?: () => Promise<string>;
  /** compute.API's message_api: the user message of a failed volume-extended event. */
  messages?: Pick<MessageApi, 'create'>;
}

/** keystoneauth's EndpointNotFound: no identity or compute endpoint to use (500 at the API). */
export class EndpointNotFound extends Error {
  override name = 'EndpointNotFound';
}

/** A keystoneauth session failure: no connection, or the token exchange refused (no `code`: 500 at the API). */
export class SessionError extends Error {
  override name = 'SessionError';
}

/** novaclient's ClientException: Nova answered `code` (FaultWrapper uses it as the status). */
export class NovaClientError extends Error {
  override name = 'ClientException';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** novaclient's NotFound (HTTP 404). */
export class NovaNotFound extends NovaClientError {
  override name = 'NotFound';
  constructor(message: string) {
    super(404, message);
  }
}

/** One entry of Nova's os-volume_attachments at 2.89. */
export interface NovaVolumeAttachment {
  id?: string;
  serverId?: string;
  volumeId?: string;
  device?: string | null;
  attachment_id?: string | null;
  [k: string]: unknown;
}

interface V3Endpoint {
  interface?: string;
  region?: string | null;
  region_id?: string | null;
  url?: string;
}
interface V3Service {
  type?: string;
  endpoints?: V3Endpoint[];
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Nova's error text: `{"itemNotFound": {"message": ...}}`, or the raw body. */
function novaMessage(status: number, body: string): string {
  try {
    const doc = JSON.parse(body) as unknown;
    if (isObj(doc)) {
      for (const v of Object.values(doc)) if (isObj(v) && typeof v.message === 'string') return `${v.message} (HTTP ${status})`;
    }
  } catch {
    /* not JSON */
  }
  return `${body.slice(0, 200) || 'no body'} (HTTP ${status})`;
}

export class NovaAPI {
  constructor(
    private readonly settings: NovaSettings,
    private readonly deps: NovaDeps,
  ) {}

  /**
   * `_get_identity_endpoint_from_sc`: the first identity endpoint of our region, its
   * `<interface>URL` (undefined when it has none); EndpointNotFound without one.
   */
  private identityUrl(ctx: RequestContext): string | undefined {
    if (this.settings.tokenAuthUrl) return this.settings.tokenAuthUrl;
    for (const service of ctx.service_catalog) {
      if (service.type !== 'identity') continue;
      for (const ep of service.endpoints ?? []) {
        if (!this.settings.regionName || ep.region === this.settings.regionName) {
          const url = ep[`${this.settings.interface}URL`];
          return typeof url === 'string' && url ? url : undefined;
        }
      }
    }
    throw new EndpointNotFound('Could not find requested endpoint in Service Catalog.');
  }

  /** The identity endpoint the caller's token is exchanged at. */
  identityEndpoint(ctx: RequestContext): string {
    const url = this.identityUrl(ctx);
    if (!url) throw new EndpointNotFound(`identity endpoint has no ${this.settings.interface}URL`);
    return url;
  }

  /** keystoneauth Token plugin: the caller's token exchanged for a project-scoped one with a catalog. */
  private async rescope(ctx: RequestContext, authUrl = this.identityEndpoint(ctx)): Promise<{ token: string; catalog: V3Service[] }> {
    const url = `${v3Base(authUrl)}/auth/tokens`;
    const body = {
      auth: {
        identity: { methods: ['token'], token: { id: ctx.auth_token ?? '' } },
        ...(ctx.project_name
          ? { scope: { project: { name: ctx.project_name, domain: ctx.project_domain ? { id: ctx.project_domain } : {} } } }
          : {}),
      },
    };
    let res;
    try {
      res = await this.deps.requester({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: this.settings.timeoutMs,
      });
    } catch (e) {
      throw new SessionError(`Unable to establish connection to ${url}: ${(e as Error).message}`);
    }
    if (res.status !== 201 && res.status !== 200) {
      throw new SessionError(`${url} answered HTTP ${res.status} to the token exchange`);
    }
    const token = res.headers['x-subject-token'];
    let catalog: unknown;
    try {
      catalog = (JSON.parse(res.body) as { token?: { catalog?: unknown } }).token?.catalog;
    } catch {
      /* handled below */
    }
    if (typeof token !== 'string' || !token) throw new SessionError(`${url}: no X-Subject-Token in the answer`);
    return { token, catalog: Array.isArray(catalog) ? (catalog as V3Service[]) : [] };
  }

  /** The compute endpoint of `[nova] interface` and `region_name` in a v3 catalog. */
  computeEndpoint(catalog: V3Service[]): string {
    const { interface: iface, regionName } = this.settings;
    for (const service of catalog) {
      if (service.type !== 'compute') continue;
      for (const ep of service.endpoints ?? []) {
        if (ep.interface !== iface) continue;
        if (regionName && ep.region_id !== regionName && ep.region !== regionName) continue;
        if (ep.url) return ep.url.replace(/\/+$/, '');
      }
    }
    throw new EndpointNotFound(`Could not find the ${iface} compute endpoint in the service catalog.`);
  }

  /** novaclient's request headers at compute microversion `version`, with the service token if any. */
  private async headers(ctx: RequestContext, token: string, version: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      'X-Auth-Token': token,
      Accept: 'application/json',
      'X-OpenStack-Nova-API-Version': version,
      'OpenStack-API-Version': `compute ${version}`,
      'User-Agent': 'cinder-ts python-novaclient',
    };
    if (ctx.global_request_id) headers['X-OpenStack-Request-ID'] = ctx.global_request_id;
    if (this.deps.serviceToken) headers['X-Service-Token'] = await this.deps.serviceToken();
    return headers;
  }

  /** nova.volumes.get_server_volume(server_id, volume_id) at 2.89; NovaNotFound on 404. */
  async getServerVolume(ctx: RequestContext, serverId: string, volumeId: string): Promise<NovaVolumeAttachment> {
    const { token, catalog } = await this.rescope(ctx);
    const url = `${this.computeEndpoint(catalog)}/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`;
    const headers = await this.headers(ctx, token, NOVA_API_VERSION);
    let res;
    try {
      res = await this.deps.requester({ method: 'GET', url, headers, timeoutMs: this.settings.timeoutMs });
    } catch (e) {
      throw new SessionError(`Unable to establish connection to ${url}: ${(e as Error).message}`);
    }
    this.deps.logger?.debug({ server_id: serverId, volume_id: volumeId, status: res.status }, 'Nova get_server_volume');
    if (res.status === 404) throw new NovaNotFound(novaMessage(404, res.body));
    if (res.status !== 200) throw new NovaClientError(res.status, novaMessage(res.status, res.body));
    const doc = JSON.parse(res.body) as { volumeAttachment?: NovaVolumeAttachment };
    if (!isObj(doc.volumeAttachment)) throw new NovaClientError(500, 'Nova answered without volumeAttachment');
    return doc.volumeAttachment;
  }

  /**
   * compute/nova.py API.extend_volume: one `volume-extended` event per server (tag: the volume id)
   * through _send_events at microversion 2.51; on failure the user message
   * EXTEND_VOLUME / NOTIFY_COMPUTE_SERVICE_FAILED. True when Nova took the events.
   */
  async extendVolume(ctx: RequestContext, serverIds: (string | null)[], volumeId: string): Promise<boolean> {
    const events = serverIds.map((id) => ({ name: 'volume-extended', server_uuid: id, tag: volumeId }));
    const ok = await this.sendEvents(ctx, events, '2.51');
    if (!ok) await this.deps.messages?.create(ctx, Action.EXTEND_VOLUME, { resourceUuid: volumeId, detail: Detail.NOTIFY_COMPUTE_SERVICE_FAILED });
    return ok;
  }

  /** compute/nova.py API._send_events: server_external_events.create(events); false on any failure. */
  private async sendEvents(ctx: RequestContext, events: Record<string, unknown>[], version: string): Promise<boolean> {
    const log = this.deps.logger;
    const shown = JSON.stringify(events);
    // novaclient() runs before _send_events' try: no identity service to exchange the token at escapes.
    const authUrl = this.identityUrl(ctx);
    let response: unknown;
    try {
      if (!authUrl) throw new EndpointNotFound(`identity endpoint has no ${this.settings.interface}URL`);
      const { token, catalog } = await this.rescope(ctx, authUrl);
      const url = `${this.computeEndpoint(catalog)}/os-server-external-events`;
      const headers = { ...(await this.headers(ctx, token, version)), 'Content-Type': 'application/json' };
      let res;
      try {
        res = await this.deps.requester({ method: 'POST', url, headers, body: JSON.stringify({ events }), timeoutMs: this.settings.timeoutMs });
      } catch (e) {
        throw new SessionError(`Unable to establish connection to ${url}: ${(e as Error).message}`);
      }
      if (res.status === 404) throw new NovaNotFound(novaMessage(404, res.body));
      if (res.status >= 400) throw new NovaClientError(res.status, novaMessage(res.status, res.body));
      // novaclient's _create(..., 'events', return_raw=True): the answer's `events`.
      const doc = JSON.parse(res.body) as unknown;
      if (!isObj(doc) || !('events' in doc)) throw new Error(`KeyError: 'events' in ${res.body.slice(0, 200)}`);
      response = doc.events;
    } catch (e) {
      if (e instanceof NovaNotFound) log?.warn(`Nova returned NotFound for events: ${shown}.`);
      else log?.error({ err: (e as Error).message }, `Failed to notify nova on events: ${shown}.`);
      return false;
    }
    if (!Array.isArray(response)) {
      log?.error(`Error response returned from nova: ${JSON.stringify(response)}.`);
      return false;
    }
    let responseError = false;
    for (const event of response as unknown[]) {
      const code = isObj(event) ? event.code : undefined;
      if (code === undefined || code === null) responseError = true;
      else if (code !== 200) log?.warn(`Nova event: ${JSON.stringify(event)} returned with failed status.`);
      else log?.info(`Nova event response: ${JSON.stringify(event)}.`);
    }
    if (responseError) {
      log?.error(`Error response returned from nova: ${JSON.stringify(response)}.`);
      return false;
    }
    return true;
  }
}

/**
 * The Nova client `[nova]` describes. With auth_strategy = keystone and `[service_user]
 * send_service_user_token`, the service user's token (keystoneauth password plugin, renewed before
 * it expires) goes along as X-Service-Token.
 */
export function novaFromConfig(cfg: CinderConfig, logger?: Logger, messages?: Pick<MessageApi, 'create'>): NovaAPI {
  const n = cfg.nova;
  let ca: Buffer | undefined;
  if (n.cafile !== undefined) {
    try {
      ca = fs.readFileSync(n.cafile);
    } catch (e) {
      throw new ConfigError(`config error: [nova] cafile: cannot read ${n.cafile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const requester = nodeRequester({ insecure: n.insecure, ca });
  const su = serviceUserSettings(cfg);
  let serviceToken: (() => Promise<string>) | undefined;
  if (su && cfg.DEFAULT.auth_strategy === 'keystone') {
    const client = new IdentityClient(
      {
        authUrl: su.auth_url,
        username: su.username,
        password: su.password,
        userDomainName: su.user_domain_name,
        userDomainId: su.user_domain_id,
        projectName: su.project_name,
        projectDomainName: su.project_domain_name,
        projectDomainId: su.project_domain_id,
        connectRetries: 0,
      },
      { requester, logger },
    );
    serviceToken = () => client.serviceToken();
  }
  return new NovaAPI(
    {
      regionName: n.region_name,
      interface: n.interface,
      tokenAuthUrl: n.token_auth_url,
      timeoutMs: n.timeout !== undefined ? n.timeout * 1000 : undefined,
    },
    { requester, logger, serviceToken, messages },
  );
}
