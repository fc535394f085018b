// oslo uses uuid4().hex (32 lowercase hex chars, no dashes) for _msg_id, _unique_id and the
// random suffix of reply_/fanout queue names. Python drops a reused _unique_id silently, so every
// logical message must get a fresh one.
import { randomUUID } from 'node:crypto';

export function hexId(): string {
  return randomUUID().replace(/-/g, '');
}
