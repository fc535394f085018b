// cinder-api for the attach/detach path: a Fastify app that answers like Cinder 21.3.1's v3 API.
// Everything per-request is cheap: schemas are compiled at import, the body is read once and
// parsed once, and the Python-exact re-parse only happens to word a 400.
import type { LogLevelsRpc } from '../rpc/log-levels.js';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { CinderConfig } from '../common/config.js';
import { adminContext, newRequestId } from '../common/context.js';
import { createLogger, type Logger } from '../common/log.js';
import type { AdminApiSurface, AttachmentApiSurface, VolumeApiSurface } from '../volume-api/api.js';
import { authenticatorFor, type Authenticator } from './auth.js';
import { clientErrorHandler } from './client-error.js';
import { apiRequestDuration, metricsText, registry, setStale } from '../common/metrics.js';
import { MAX_REQUEST_BODY_SIZE, registerPipeline } from './pipeline.js';
import type { ResourceMethod } from './resource.js';
import { adminActions } from './routes/admin-actions.js';
import { registerAttachmentRoutes } from './routes/attachments.js';
import { registerVersionRoutes } from './routes/versions.js';
import { registerVolumeActionRoutes, volumeActions } from './routes/volume-actions.js';
import { registerVolumeRoutes } from './routes/volumes.js';
import { registerVolumeEditRoutes, volumeEditActions } from './routes/volume-edits.js';
import type { VolumeEditSurface } from '../volume-api/volume-update.js';
import { registerSchedulerRoutes } from './routes/scheduler.js';
import { registerStaleRoutes } from './routes/stale.js';
import { registerTypeRoutes } from './routes/types.js';
import { registerQosSpecsRoutes } from './routes/qos-specs.js';
import { registerEncryptionTypeRoutes } from './routes/encryption-types.js';
import type { Db } from '../db/client.js';
import { registerServiceRoutes } from './routes/services.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerExtensionRoutes } from './routes/extensions.js';
import { registerMessageRoutes } from './routes/messages.js';
import { QuotaEngine, quotaConfigOf } from '../quota/index.js';
import { registerQuotaSetRoutes } from './routes/quota-sets.js';
import { registerQuotaClassRoutes } from './routes/quota-classes.js';
import { registerLimitRoutes } from './routes/limits.js';
import { registerTransferRoutes } from './routes/transfers.js';
import type { TransferAPI } from '../volume-api/transfer.js';

export interface BuildAppOptions {
  /** The attachments and admin-action methods are optional: without them those routes answer 500. */
  volumeApi: VolumeApiSurface & Partial<AttachmentApiSurface & AdminApiSurface & { edits: VolumeEditSurface }>;
  config: CinderConfig;
  logger?: Logger;
  /** Override the authenticator chosen from `[DEFAULT] auth_strategy`. */
  authenticator?: Authenticator;
  /** The database, for the routes that read it directly (types, QoS specs, encryption); without it they are not registered. */
  db?: Db;
  /** os-services set-log/get-log's RPC to the other services; without it only the API's own level. */
  logLevelsRpc?: LogLevelsRpc;
}

const VOLUME_IN_URL = /^\/v3\/(?:[^/]+\/)?volumes\/([^/?]+)/;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function buildApp({ volumeApi, config, logger, authenticator, db, logLevelsRpc }: BuildAppOptions): FastifyInstance {
  const log = logger ?? createLogger('cinder-api', config.DEFAULT.log_level);
  const app = Fastify({
    loggerInstance: log,
    // Cinder style: one line per answered request (onResponse), none from Fastify; the request
    // id (req-<uuid>) is generated, never taken from the client, and labels every log line.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: () => newRequestId(),
    // One child logger per request, carrying request_id and, when the URL names one, volume_id.
    childLoggerFactory: (parent, bindings, opts, rawReq) => {
      const m = VOLUME_IN_URL.exec(rawReq.url ?? '');
      const b = m && m[1] !== 'detail' ? { ...bindings, volume_id: safeDecode(m[1]) } : bindings;
      return parent.child(b, opts);
    },
    requestIdHeader: false,
    // Like routes.Mapper: HEAD is not GET, no trailing-slash folding, long ids reach the lookup.
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 8192 },
    // Unparsable bytes after pipelined requests: answer those requests first (client-error.ts).
    clientErrorHandler,
  }) as unknown as FastifyInstance;

  registerPipeline(app, {
    authenticator: authenticator ?? authenticatorFor(config.DEFAULT.auth_strategy, { config, logger: log }),
    maxRequestBodySize: MAX_REQUEST_BODY_SIZE,
  });
  // Prometheus: every answered request by route pattern, action and status; /metrics outside
  // /v3, so it needs no token (as the version document at /).
  app.addHook('onResponse', (req, reply, done) => {
    apiRequestDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', action: req.cinder?.action ?? '', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  if (config.metrics.api_enabled) {
    app.get('/metrics', async (_req, reply) => {
      const stale = await volumeApi.staleReport?.(adminContext(), config.metrics.stale_after);
      if (stale) setStale([...stale.volumes, ...stale.attachments]);
      return reply.header('Content-Type', registry.contentType).send(await metricsText());
    });
  }
  registerVersionRoutes(app);
  registerVolumeRoutes(app, volumeApi);
  if (volumeApi.edits) registerVolumeEditRoutes(app, { get: (ctx, id) => volumeApi.get(ctx, id), edits: volumeApi.edits });
  registerVolumeActionRoutes(app, new Map([...volumeActions(volumeApi), ...adminActions(volumeApi), ...volumeEditActions(volumeApi)]));
  registerAttachmentRoutes(app, volumeApi);
  registerStaleRoutes(app, volumeApi, config.metrics.stale_after);
  registerSchedulerRoutes(app, volumeApi);
  if (db) registerTypeRoutes(app, db, config);
  if (db) registerQosSpecsRoutes(app, db);
  if (db) registerEncryptionTypeRoutes(app, db);
  if (db) registerServiceRoutes(app, { db, config, log, volumeApi, logLevelsRpc });
  if (db) registerHostRoutes(app, db, config);
  if (db) registerMessageRoutes(app, db);
  registerExtensionRoutes(app);
  if (db) {
    const quotas = new QuotaEngine(db, quotaConfigOf(config.DEFAULT));
    registerQuotaSetRoutes(app, quotas);
    registerQuotaClassRoutes(app, quotas);
    registerLimitRoutes(app, quotas);
  }
  const transfers = (volumeApi as { transfers?: TransferAPI }).transfers;
  if (transfers) registerTransferRoutes(app, transfers);
  return app;
}

export type { ResourceMethod };
