// The oslo.versionedobjects primitive form of Cinder objects ("OVOs"), for RPC args and results.
//
//   {"versioned_object.name": "Volume", "versioned_object.namespace": "cinder",
//    "versioned_object.version": "1.9", "versioned_object.data": {...},
//    "versioned_object.changes": [...]}            <- only when some fields are dirty
//
// Versions are Cinder 21's OBJ_VERSIONS['1.39']. DateTime fields are 'YYYY-MM-DDTHH:MM:SSZ' on the
// wire and 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC) in our DB rows, so the codec converts both
// ways (microseconds are lost on the wire, exactly as in Python).
//
// How serializeEntity recognises an object to encode (explicit rules, checked in this order):
//  1. a value tagged with the OVO_META symbol (set by the *FromPrimitive decoders and by
//     asVolume()/asVolumeAttachment()/asVolumeType()); arrays tagged 'VolumeAttachmentList' too;
//  2. an UnknownOvo (an object class we do not model, kept verbatim);
//  3. by shape, for untagged plain objects: a Volume has own keys id, size, status, attach_status,
//     volume_attachment (array), metadata and admin_metadata (object); a VolumeAttachment has own
//     keys id, volume_id, instance_uuid, attached_host, mountpoint, attach_status, attach_mode,
//     connector and connection_info. These are whole DB rows, which connectors, connection_info
//     and other plain dicts never look like.
// Everything else is plain JSON and walked recursively.
import type { Volume, VolumeAttachment, VolumeTypeData } from '../objects/volume.js';

export type { VolumeTypeData } from '../objects/volume.js';
import { IncompatibleObjectVersion, PythonException, PyValueError, UnsupportedObjectError } from './errors.js';

export const OBJ_NAMESPACE = 'cinder';
export const OBJ_VERSIONS = {
  Volume: '1.9',
  VolumeAttachment: '1.3',
  VolumeAttachmentList: '1.1',
  VolumeType: '1.3',
} as const;
export type KnownOvoName = keyof typeof OBJ_VERSIONS;

export const K_NAME = 'versioned_object.name';
export const K_NAMESPACE = 'versioned_object.namespace';
export const K_VERSION = 'versioned_object.version';
export const K_DATA = 'versioned_object.data';
export const K_CHANGES = 'versioned_object.changes';

export interface OvoPrimitive {
  [K_NAME]: string;
  [K_NAMESPACE]: string;
  [K_VERSION]: string;
  [K_DATA]: Record<string, unknown>;
  [K_CHANGES]?: string[];
}


/** A Volume as it travels: optionally with its loaded volume type (Cinder loads it with the volume). */
export type WireVolume = Volume;

/** What a decoded object remembers from its primitive. */
export interface OvoMeta {
  name: string;
  /** The version it arrived with (we always send ours). */
  version: string;
  /** versioned_object.changes: fields modified since the sender loaded it (the receiver's dirty flags). */
  changes: string[];
  /** The fields that were present in versioned_object.data (others were defaulted). */
  fields: string[];
}

/** Non-enumerable, so tagged objects still compare equal to plain rows in tests and spreads drop it. */
export const OVO_META = Symbol.for('cinder-ts.rpc.ovo');

export function ovoMeta(obj: unknown): OvoMeta | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  return (obj as { [OVO_META]?: OvoMeta })[OVO_META];
}

function tag<T extends object>(obj: T, meta: OvoMeta): T {
  Object.defineProperty(obj, OVO_META, { value: meta, enumerable: false, configurable: true, writable: true });
  return obj;
}

export function asVolume<T extends Volume>(v: T, changes: string[] = []): T {
  return tag(v, { name: 'Volume', version: OBJ_VERSIONS.Volume, changes, fields: Object.keys(v) });
}
export function asVolumeAttachment<T extends VolumeAttachment>(a: T, changes: string[] = []): T {
  return tag(a, { name: 'VolumeAttachment', version: OBJ_VERSIONS.VolumeAttachment, changes, fields: Object.keys(a) });
}
export function asVolumeType<T extends VolumeTypeData>(t: T): T {
  return tag(t, { name: 'VolumeType', version: OBJ_VERSIONS.VolumeType, changes: [], fields: Object.keys(t) });
}

/** A cinder object class we do not model (e.g. a scheduler RequestSpec): passed through verbatim. */
export class UnknownOvo {
  constructor(readonly primitive: OvoPrimitive) {}
  get name(): string {
    return this.primitive[K_NAME];
  }
}

/**
 * A value already in its wire form, as jsonutils.to_primitive leaves Cinder's objects (plain dicts):
 * sent verbatim, never taken for an object by its shape (retype's request spec, whose
 * volume_properties is a whole volume dict).
 */
export class WirePrimitive {
  constructor(readonly value: unknown) {}
}

// ---------------------------------------------------------------------------------------------
// DateTime fields

const DT_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function parseDatetime(v: string): { ms: number; micros: number } | null {
  const m = DT_RE.exec(v.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(ms)) return null;
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    ms -= sign * offMin * 60_000;
  }
  const check = new Date(ms);
  if (!tz && (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1)) return null; // e.g. Feb 30
  return { ms, micros: frac ? Number(frac.padEnd(6, '0')) : 0 };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** DB text (or any ISO form, or a Date) → the OVO form 'YYYY-MM-DDTHH:MM:SSZ' (UTC, whole seconds). */
export function toOvoDatetime(v: string | Date | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const ms = v instanceof Date ? v.getTime() : parseDatetime(v)?.ms;
  if (ms === undefined || Number.isNaN(ms)) throw new Error(`invalid datetime ${JSON.stringify(v)}`);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** OVO datetime → DB text 'YYYY-MM-DD HH:MM:SS.ffffff'. A bad value is Python's ValueError. */
export function fromOvoDatetime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const p = typeof v === 'string' ? parseDatetime(v) : null;
  if (!p) throw new PyValueError(`Unable to parse date string ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  const d = new Date(p.ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(p.micros, 6)}`
  );
}

// ---------------------------------------------------------------------------------------------
// Field lists (Python's field order, as seen in the fixtures)

export const VOLUME_SCALARS_HEAD = [
  'id', '_name_id', 'ec2_id', 'user_id', 'project_id', 'use_quota', 'snapshot_id', 'cluster_name', 'host', 'size',
  'availability_zone', 'status', 'attach_status', 'migration_status', 'scheduled_at', 'launched_at', 'terminated_at',
  'display_name', 'display_description', 'provider_id', 'provider_location', 'provider_auth', 'provider_geometry',
  'volume_type_id', 'source_volid', 'encryption_key_id', 'consistencygroup_id', 'group_id', 'deleted', 'bootable',
  'multiattach', 'replication_status', 'replication_extended_status', 'replication_driver_data', 'previous_status',
] as const;
export const VOLUME_SCALARS_TAIL = ['service_uuid', 'shared_targets', 'created_at', 'updated_at', 'deleted_at'] as const;
const VOLUME_DATETIMES = new Set(['scheduled_at', 'launched_at', 'terminated_at', 'created_at', 'updated_at', 'deleted_at']);
/** Python defaults for fields a partial primitive leaves out (it would lazy-load them instead). */
const VOLUME_DEFAULTS: Record<string, unknown> = {
  use_quota: true, deleted: false, bootable: false, multiattach: false, shared_targets: true,
};

export const ATTACHMENT_FIELDS = [
  'id', 'volume_id', 'instance_uuid', 'attached_host', 'mountpoint', 'attach_time', 'detach_time', 'attach_status',
  'attach_mode', 'connection_info', 'connector', 'created_at', 'updated_at', 'deleted_at', 'deleted',
] as const;
const ATTACHMENT_DATETIMES = new Set(['attach_time', 'detach_time', 'created_at', 'updated_at', 'deleted_at']);

const VOLUME_TYPE_FIELDS = [
  'id', 'name', 'description', 'is_public', 'extra_specs', 'qos_specs_id', 'created_at', 'updated_at', 'deleted_at', 'deleted',
] as const;
const VOLUME_TYPE_DATETIMES = new Set(['created_at', 'updated_at', 'deleted_at']);

// ---------------------------------------------------------------------------------------------
// Encoding

export interface VolumePrimitiveOptions {
  /** Include admin_metadata: Cinder loads it only for admin contexts (Volume._get_expected_attrs). */
  isAdmin?: boolean;
  /** versioned_object.changes; defaults to the changes remembered on a decoded/tagged volume. */
  changes?: string[];
  /** The volume's VolumeType, when it is not already on the volume as `volume_type`. Omitted when
   * neither is given: Cinder then leaves the field unset and the receiver lazy-loads it by id. */
  volumeType?: VolumeTypeData | null;
}

function primitive(name: KnownOvoName, data: Record<string, unknown>, changes?: string[]): OvoPrimitive {
  const p: OvoPrimitive = {
    [K_NAME]: name,
    [K_NAMESPACE]: OBJ_NAMESPACE,
    [K_VERSION]: OBJ_VERSIONS[name],
    [K_DATA]: data,
  };
  if (changes && changes.length > 0) p[K_CHANGES] = [...changes];
  return p;
}

function jsonDict(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return v as Record<string, unknown>;
}

export function volumeTypeToPrimitive(t: VolumeTypeData): OvoPrimitive {
  const data: Record<string, unknown> = {};
  for (const f of VOLUME_TYPE_FIELDS) {
    if (!(f in t)) continue;
    data[f] = VOLUME_TYPE_DATETIMES.has(f) ? toOvoDatetime(t[f] as string | null) : t[f];
  }
  return primitive('VolumeType', data);
}

export function attachmentToPrimitive(a: VolumeAttachment, opts: { changes?: string[] } = {}): OvoPrimitive {
  const src = a as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const f of ATTACHMENT_FIELDS) {
    const v = src[f];
    if (ATTACHMENT_DATETIMES.has(f)) data[f] = toOvoDatetime(v as string | null);
    else if (f === 'connector' || f === 'connection_info') data[f] = jsonDict(v);
    else data[f] = v === undefined ? (f === 'deleted' ? false : null) : v;
  }
  return primitive('VolumeAttachment', data, opts.changes ?? ovoMeta(a)?.changes);
}

export function attachmentListToPrimitive(list: VolumeAttachment[]): OvoPrimitive {
  return primitive('VolumeAttachmentList', { objects: list.map((a) => attachmentToPrimitive(a)) });
}

export function volumeToPrimitive(volume: WireVolume, opts: VolumePrimitiveOptions = {}): OvoPrimitive {
  const src = volume as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  const scalar = (f: string) => {
    const v = src[f];
    data[f] = VOLUME_DATETIMES.has(f) ? toOvoDatetime(v as string | null) : v === undefined ? (VOLUME_DEFAULTS[f] ?? null) : v;
  };
  VOLUME_SCALARS_HEAD.forEach(scalar);
  data.metadata = { ...(volume.metadata ?? {}) };
  if (opts.isAdmin) data.admin_metadata = { ...(volume.admin_metadata ?? {}) };
  const vt = 'volume_type' in volume ? volume.volume_type : opts.volumeType;
  if (vt !== undefined) data.volume_type = vt === null ? null : volumeTypeToPrimitive(vt);
  data.volume_attachment = attachmentListToPrimitive(volume.volume_attachment ?? []);
  VOLUME_SCALARS_TAIL.forEach(scalar);
  return primitive('Volume', data, opts.changes ?? ovoMeta(volume)?.changes);
}

// ---------------------------------------------------------------------------------------------
// Decoding

export function isOvoPrimitive(v: unknown): v is OvoPrimitive {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && K_NAME in v;
}

/** oslo's rule as observed (edge cases): same major, minor <= ours; a third part is ignored. */
function checkVersion(name: KnownOvoName, version: unknown): string {
  const supported = OBJ_VERSIONS[name];
  const v = typeof version === 'string' ? version : String(version);
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(v);
  const [smaj, smin] = supported.split('.').map(Number);
  if (!m || Number(m[1]) !== smaj || Number(m[2]) > smin) throw new IncompatibleObjectVersion(name, v, supported);
  return v;
}

function dataOf(p: OvoPrimitive): Record<string, unknown> {
  const d = p[K_DATA];
  if (d === undefined) throw new PythonException('builtins', 'KeyError', `'${K_DATA}'`);
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new PyValueError(`${K_DATA} is not a dict`);
  return d;
}

function metaOf(name: KnownOvoName, p: OvoPrimitive, data: Record<string, unknown>, version: string): OvoMeta {
  const changes = Array.isArray(p[K_CHANGES]) ? p[K_CHANGES].map(String) : [];
  return { name, version, changes, fields: Object.keys(data) };
}

/** Check namespace and version; returns the class name we model, or null for an unknown cinder class. */
function classify(p: OvoPrimitive): { name: KnownOvoName; version: string } | null {
  const ns = p[K_NAMESPACE];
  const name = p[K_NAME];
  if (ns !== OBJ_NAMESPACE) throw new UnsupportedObjectError(`${String(ns)}.${String(name)}`);
  if (!Object.hasOwn(OBJ_VERSIONS, name)) return null;
  const known = name as KnownOvoName;
  return { name: known, version: checkVersion(known, p[K_VERSION]) };
}

function expect(p: OvoPrimitive, name: KnownOvoName): { version: string } {
  const c = classify(p);
  if (!c || c.name !== name) throw new PyValueError(`expected a ${name} object, got ${String(p[K_NAME])}`);
  return c;
}

export function volumeTypeFromPrimitive(p: OvoPrimitive): VolumeTypeData {
  const { version } = expect(p, 'VolumeType');
  const data = dataOf(p);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = VOLUME_TYPE_DATETIMES.has(k) ? fromOvoDatetime(v) : deserializeEntity(v);
  return tag(out as VolumeTypeData, metaOf('VolumeType', p, data, version));
}

export function attachmentFromPrimitive(p: OvoPrimitive): VolumeAttachment {
  const { version } = expect(p, 'VolumeAttachment');
  const data = dataOf(p);
  const out: Record<string, unknown> = {};
  for (const f of ATTACHMENT_FIELDS) {
    const v = data[f];
    if (ATTACHMENT_DATETIMES.has(f)) out[f] = fromOvoDatetime(v);
    else if (f === 'connector' || f === 'connection_info') out[f] = jsonDict(v);
    else out[f] = v === undefined ? (f === 'deleted' ? false : null) : v;
  }
  return tag(out as unknown as VolumeAttachment, metaOf('VolumeAttachment', p, data, version));
}

export function attachmentListFromPrimitive(p: OvoPrimitive): VolumeAttachment[] {
  const { version } = expect(p, 'VolumeAttachmentList');
  const data = dataOf(p);
  const objects = Array.isArray(data.objects) ? data.objects : [];
  const list = objects.map((o) => {
    if (!isOvoPrimitive(o)) throw new PyValueError('VolumeAttachmentList holds a non-object');
    return attachmentFromPrimitive(o);
  });
  return tag(list, metaOf('VolumeAttachmentList', p, data, version));
}

export function volumeFromPrimitive(p: OvoPrimitive): WireVolume {
  const { version } = expect(p, 'Volume');
  const data = dataOf(p);
  const out: Record<string, unknown> = {};
  for (const f of [...VOLUME_SCALARS_HEAD, ...VOLUME_SCALARS_TAIL]) {
    const v = data[f];
    out[f] = VOLUME_DATETIMES.has(f) ? fromOvoDatetime(v) : v === undefined ? (VOLUME_DEFAULTS[f] ?? null) : v;
  }
  out.metadata = { ...((data.metadata as Record<string, string> | null) ?? {}) };
  out.admin_metadata = { ...((data.admin_metadata as Record<string, string> | null) ?? {}) };
  const va = data.volume_attachment;
  out.volume_attachment = isOvoPrimitive(va) ? attachmentListFromPrimitive(va) : [];
  if ('volume_type' in data) {
    const vt = data.volume_type;
    out.volume_type = isOvoPrimitive(vt) ? volumeTypeFromPrimitive(vt) : null;
  }
  return tag(out as unknown as WireVolume, metaOf('Volume', p, data, version));
}

/** Hydrate any primitive: known classes to our types, unknown cinder classes to UnknownOvo. */
export function objFromPrimitive(p: OvoPrimitive): unknown {
  const c = classify(p);
  if (!c) return new UnknownOvo(p);
  switch (c.name) {
    case 'Volume':
      return volumeFromPrimitive(p);
    case 'VolumeAttachment':
      return attachmentFromPrimitive(p);
    case 'VolumeAttachmentList':
      return attachmentListFromPrimitive(p);
    case 'VolumeType':
      return volumeTypeFromPrimitive(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Generic walkers (VersionedObjectSerializer.serialize_entity / deserialize_entity)

export interface SerializeOptions {
  /** Whether the request context is admin: decides admin_metadata on Volumes. */
  isAdmin?: boolean;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function has(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.every((k) => Object.hasOwn(o, k));
}

const VOLUME_SHAPE = ['id', 'size', 'status', 'attach_status', 'volume_attachment', 'metadata', 'admin_metadata'];
const ATTACHMENT_SHAPE = [
  'id', 'volume_id', 'instance_uuid', 'attached_host', 'mountpoint', 'attach_status', 'attach_mode', 'connector', 'connection_info',
];

/** Which OVO a value is to be sent as (see the rules at the top of this file), or undefined. */
export function ovoKind(v: unknown): KnownOvoName | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const meta = ovoMeta(v);
  if (meta && Object.hasOwn(OBJ_VERSIONS, meta.name)) return meta.name as KnownOvoName;
  if (Array.isArray(v) || !isPlainObject(v)) return undefined;
  if (has(v, VOLUME_SHAPE) && Array.isArray(v.volume_attachment)) return 'Volume';
  if (has(v, ATTACHMENT_SHAPE)) return 'VolumeAttachment';
  return undefined;
}

export function serializeEntity(value: unknown, opts: SerializeOptions = {}): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof UnknownOvo) return value.primitive;
  if (value instanceof WirePrimitive) return value.value;
  switch (ovoKind(value)) {
    case 'Volume':
      return volumeToPrimitive(value as WireVolume, { isAdmin: opts.isAdmin });
    case 'VolumeAttachment':
      return attachmentToPrimitive(value as VolumeAttachment);
    case 'VolumeAttachmentList':
      return attachmentListToPrimitive(value as VolumeAttachment[]);
    case 'VolumeType':
      return volumeTypeToPrimitive(value as VolumeTypeData);
  }
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => serializeEntity(v, opts));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = serializeEntity(v, opts);
  return out;
}

export function deserializeEntity(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(deserializeEntity);
  if (isOvoPrimitive(value)) return objFromPrimitive(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = deserializeEntity(v);
  return out;
}
