// The oslo "2.0" envelope: {"oslo.version": "2.0", "oslo.message": "<the message as a JSON string>"}.
// The inner message is JSON *inside* a JSON string (failures inside replies are a third level).
// Receipt rules (oslo_messaging._drivers.common.deserialize_msg + kombu):
//  - content_type must be application/json, otherwise kombu hands oslo a raw string and the
//    message is rejected without reply;
//  - a dict without both envelope keys is a pre-envelope ("1.0") message and is used as is;
//  - an envelope version oslo's version_is_compatible('2.0', v) refuses (another major, or 2.1+)
//    raises UnsupportedRpcEnvelopeVersion: dropped, no reply.
import { MessageDecodeError, UnsupportedRpcEnvelopeVersion } from './errors.js';
import { versionIsCompatible } from './version.js';

export const ENVELOPE_VERSION = '2.0';
const VERSION_KEY = 'oslo.version';
const MESSAGE_KEY = 'oslo.message';

export type WireMessage = Record<string, unknown>;

export function encodeEnvelope(msg: WireMessage): Buffer {
  return Buffer.from(JSON.stringify({ [VERSION_KEY]: ENVELOPE_VERSION, [MESSAGE_KEY]: JSON.stringify(msg) }), 'utf8');
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON object of a body, unwrapped from the envelope when there is one. */
export function unwrapEnvelope(body: unknown): WireMessage {
  if (!isDict(body)) throw new MessageDecodeError('message body is not a JSON object');
  if (!(VERSION_KEY in body && MESSAGE_KEY in body)) return body; // pre-envelope message
  if (!versionIsCompatible(ENVELOPE_VERSION, body[VERSION_KEY])) throw new UnsupportedRpcEnvelopeVersion(body[VERSION_KEY]);
  const inner = body[MESSAGE_KEY];
  if (typeof inner !== 'string') throw new MessageDecodeError('oslo.message is not a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(inner);
  } catch (e) {
    throw new MessageDecodeError(`oslo.message is not valid JSON: ${(e as Error).message}`);
  }
  if (!isDict(parsed)) throw new MessageDecodeError('oslo.message is not a JSON object');
  return parsed;
}

export interface ReceivedProperties {
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
}

/** Decode a delivered AMQP body into the oslo message dict. Throws on anything oslo would reject. */
export function decodeBody(content: Buffer, properties: ReceivedProperties): WireMessage {
  const ct = (properties.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/json') {
    throw new MessageDecodeError(`unsupported content type ${JSON.stringify(properties.contentType ?? null)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch (e) {
    throw new MessageDecodeError(`body is not valid JSON: ${(e as Error).message}`);
  }
  return unwrapEnvelope(body);
}
