// Version discovery as keystoneauth and Nova read it (cinder/api/versions.py, views/versions.py):
// `/` is the root app (no auth, no request-id middleware) answering 300 Multiple Choices with the
// versions list; `/v3/` is the v3 router's `versions` route (after auth) answering 200 with the
// same document; `/v3` redirects there (routes' `mapper.redirect("", "/")`). The version header is
// honoured on all of them (406 outside 3.0–3.70, `volume latest` = 3.70).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_VERSION, MIN_VERSION, VERSION_UPDATED, versionString } from '../microversion.js';
import { hostUrl } from '../pipeline.js';
import { runResource, type Controller, type ResourceMethod } from '../resource.js';

/** _KNOWN_VERSIONS["v3.0"] with its links built from the request (ViewBuilder._build_links). */
export function versionsDocument(applicationUrl: string) {
  // _get_base_url_without_version, then urljoin(base + '/', 'v3') + '/'.
  const base = applicationUrl.replace(/v[1-9]+\/?$/, '').replace(/\/+$/, '');
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: versionString(MAX_VERSION),
        min_version: versionString(MIN_VERSION),
        updated: VERSION_UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${base}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}

// The routes have no method conditions: any method reaches the controller (a body is a TypeError).
const ANY = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

export function registerVersionRoutes(app: FastifyInstance): void {
  // `/` (VersionsController.all, 300) and `/v3/` (VersionsController.index, 200, @api_version 3.0).
  const doc =
    (status: number, appPath: string): Controller =>
    async (c) => ({ kind: 'object', status, body: versionsDocument(`${hostUrl(c.req)}${appPath}`) });
  const all: ResourceMethod = { kind: 'method', takesBody: 'none', controller: doc(300, '') };
  const index: ResourceMethod = { kind: 'method', takesBody: 'none', controller: doc(200, '/v3'), minVersion: MIN_VERSION };

  app.route({ method: [...ANY], url: '/', handler: (req, reply) => runResource(req, reply, all, {}, undefined) });
  app.route({ method: [...ANY], url: '/v3/', handler: (req, reply) => runResource(req, reply, index, {}, undefined) });
  app.route({ method: [...ANY], url: '/v3', handler: redirectToV3Root });
}

/** routes' redirect: 302 to `<host>/v3/`, text/plain, empty body (after auth: it is in the v3 app). */
function redirectToV3Root(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.code(302).header('Content-Type', 'text/plain; charset=utf8').header('Location', `${hostUrl(req)}/v3/`);
  return reply.send(Buffer.alloc(0));
}
