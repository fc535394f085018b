// cinder/message/api.py API.create and cleanup_expired_messages: a user message records what went
// wrong with an asynchronous request, by action and detail ids, for `message_ttl` seconds.
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { dbNow, type Db } from '../db/client.js';
import { cleanupExpiredMessages, messageCreate } from '../db/messages.js';
import { Resource, translateDetailId, type Field } from './message-field.js';

/** [DEFAULT] message_ttl (seconds) */
export const DEFAULT_MESSAGE_TTL = 2592000;
/** [DEFAULT] message_reap_interval (seconds between the scheduler's cleanups) */
export const DEFAULT_MESSAGE_REAP_INTERVAL = 86400;

export interface CreateMessageOptions {
  resourceType?: string;
  resourceUuid?: string | null;
  /** Mapped to a detail by class name (EXCEPTION_DETAIL_MAPPINGS); its text is never shown. */
  exception?: unknown;
  detail?: Field | null;
  level?: string;
}

export class MessageApi {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly ttlS: number = DEFAULT_MESSAGE_TTL,
  ) {}

  /** API.create: failures to write are logged, never raised (as Cinder's). */
  async create(ctx: RequestContext, action: Field | null, o: CreateMessageOptions = {}): Promise<void> {
    const resourceType = o.resourceType ?? Resource.VOLUME;
    this.log.info(`Creating message record for request_id = ${ctx.request_id}`);
    const detailId = translateDetailId(o.exception, o.detail);
    const actionId = action ? action[0] : '';
    try {
      await messageCreate(this.db, {
        project_id: ctx.project_id ?? '',
        request_id: ctx.request_id,
        resource_type: resourceType,
        resource_uuid: o.resourceUuid ?? null,
        action_id: actionId,
        message_level: o.level ?? 'ERROR',
        event_id: `VOLUME_${resourceType}_${actionId}_${detailId}`,
        detail_id: detailId,
        expires_at: dbNow(new Date(Date.now() + this.ttlS * 1000)),
      });
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'Failed to create message record for request_id %s', ctx.request_id);
    }
  }

  /** cleanup_expired_messages (the scheduler's _clean_expired_messages periodic task). */
  async cleanupExpired(): Promise<number> {
    const count = await cleanupExpiredMessages(this.db);
    this.log.info(`Deleted ${count} expired messages.`);
    return count;
  }
}
