// User messages (cinder/db/sqlalchemy/api.py message_create, message_get, message_get_all,
// message_destroy, cleanup_expired_messages).
import { and, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { randomUUID } from 'node:crypto';
import { NotFound } from '../common/exceptions.js';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import { paginate, TIMESTAMP_KINDS, type PageOptions, type PagingKinds } from './pagination.js';
import type { MessageRow } from './schema.js';

export type { MessageRow };

/** exception.MessageNotFound */
export class MessageNotFound extends NotFound {
  static override template = 'Message %(message_id)s could not be found.';
}

const MESSAGE_KINDS: PagingKinds = {
  ...TIMESTAMP_KINDS,
  id: 'string',
  project_id: 'string',
  message_level: 'string',
  request_id: 'string',
  resource_type: 'string',
  resource_uuid: 'string',
  event_id: 'string',
  detail_id: 'string',
  action_id: 'string',
  expires_at: 'datetime',
};
const MESSAGE_COLUMNS = Object.keys(MESSAGE_KINDS);

export type NewMessage = Pick<MessageRow, 'project_id' | 'request_id' | 'resource_type' | 'resource_uuid' | 'action_id' | 'message_level' | 'event_id' | 'detail_id' | 'expires_at'>;

/** message_create: a new id unless given. */
export async function messageCreate(db: Db, values: NewMessage & { id?: string }): Promise<string> {
  const id = values.id ?? randomUUID();
  const now = dbNow();
  await db.run((q) => q.insert(db.t.messages).values({ ...values, id, created_at: now, deleted: false }));
  return id;
}

/** _message_get: live, and the caller's project's unless `projectId` is null (an admin). */
export async function messageGet(db: Db, id: string, projectId: string | null): Promise<MessageRow> {
  const m = db.t.messages;
  const conds: SQL[] = [eq(m.id, id), eq(m.deleted, false)];
  if (projectId !== null) conds.push(eq(m.project_id, projectId));
  const [row] = await db.run((q) =>
    q
      .select()
      .from(m)
      .where(and(...conds))
      .limit(1),
  );
  if (!row) throw new MessageNotFound({ message_id: id });
  return row;
}

export interface MessageListOptions extends PageOptions {
  marker?: string | null;
  filters?: Record<string, string>;
  /** The marker is looked up as _message_get does: in this project unless null. */
  projectId: string | null;
}

/**
 * message_get_all through _generate_paginate_query: the live messages of every project (its get
 * query is not project-scoped), filters matched exactly when they all are columns (otherwise
 * nothing), sorted and paged (default created_at desc, id desc).
 */
export async function messageGetAll(db: Db, opts: MessageListOptions): Promise<MessageRow[]> {
  const m = db.t.messages;
  const where: SQL[] = [eq(m.deleted, false)];
  for (const [k, v] of Object.entries(opts.filters ?? {})) {
    if (!MESSAGE_COLUMNS.includes(k)) return [];
    where.push(sql`${(m as unknown as Record<string, SQLiteColumn>)[k]} = ${v}`);
  }
  const marker = opts.marker != null ? await messageGet(db, opts.marker, opts.projectId) : undefined;
  return db.run((q) => paginate<MessageRow>(q, m, MESSAGE_KINDS, where, marker, opts));
}

/** message_destroy: a soft delete that keeps updated_at. */
export async function messageDestroy(db: Db, id: string): Promise<void> {
  const m = db.t.messages;
  await db.run((q) =>
    q
      .update(m)
      .set({ deleted: true, deleted_at: dbNow(), updated_at: sql`${m.updated_at}` })
      .where(eq(m.id, id)),
  );
}

/** cleanup_expired_messages: expired rows go for real; returns how many. */
export async function cleanupExpiredMessages(db: Db): Promise<number> {
  const m = db.t.messages;
  const res = await db.run((q) => q.delete(m).where(lt(m.expires_at, dbNow())));
  return db.matched(res);
}
