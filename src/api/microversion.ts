// OpenStack-API-Version handling (cinder/api/openstack/wsgi.py Request.set_api_version_request and
// api_version_request.py). Versions are kept as major*1000+minor so comparisons are integer ones.
import { HttpFault } from './faults.js';

export const VERSION_HEADER = 'OpenStack-API-Version';
export const MIN_VERSION = 3000; // 3.0
export const MAX_VERSION = 3070; // 3.70

/** Microversions that change what this port answers (cinder/api/microversions.py). */
export const MV = {
  GROUP_VOLUME: 3013,
  VOLUME_DETAIL_PROVIDER_ID: 3021,
  VOLUME_DELETE_FORCE: 3023,
  NEW_ATTACH: 3027,
  RESOURCE_FILTER: 3031,
  LIKE_FILTER: 3034,
  VOLUME_EXTEND_INUSE: 3042,
  NEW_ATTACH_COMPLETION: 3044,
  SUPPORT_COUNT_INFO: 3045,
  VOLUME_CREATE_FROM_BACKUP: 3047,
  VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS: 3048,
  SUPPORT_VOLUME_TYPE_FILTER: 3052,
  SUPPORT_VOLUME_SCHEMA_CHANGES: 3053,
  ATTACHMENT_CREATE_MODE_ARG: 3054,
  VOLUME_CLUSTER_NAME: 3061,
  DEFAULT_TYPE_OVERRIDES: 3062,
  VOLUME_TYPE_ID_IN_VOLUME_DETAIL: 3063,
  ENCRYPTION_KEY_ID_IN_DETAILS: 3064,
  USE_QUOTA: 3065,
  SHARED_TARGETS_TRISTATE: 3069,
} as const;

/** api_version_request.UPDATED: the `updated` field of the version documents. */
export const VERSION_UPDATED = '2022-08-31T00:00:00Z';

export function versionString(v: number): string {
  return `${Math.floor(v / 1000)}.${v % 1000}`;
}

/** _is_legacy_endpoint: no version headers when the version string contains '1.0' or '2.0'. */
export function isLegacy(label: string): boolean {
  return label.includes('1.0') || label.includes('2.0');
}

/**
 * The outcome of reading the header: `version` for comparisons, `label` ("3.27") for the response
 * headers. A failed parse keeps the label Cinder had stored before failing (a 406 still echoes the
 * requested version); label is null when nothing valid was parsed.
 */
export type VersionOutcome =
  | { version: number; label: string; error?: undefined }
  | { version?: undefined; label: string | null; error: Error };

const VERSION_RE = /^([1-9]\d*)\.([1-9]\d*|0)$/;
const MIN_LABEL = versionString(MIN_VERSION);
const MAX_LABEL = versionString(MAX_VERSION);

export function parseVersionHeader(header: string | undefined): VersionOutcome {
  if (header === undefined) return { version: MIN_VERSION, label: MIN_LABEL };
  let volumeVersion: string | undefined;
  for (const hdr of header.split(',')) {
    if (!hdr.includes('volume')) continue;
    const parts = hdr.split(/\s+/).filter(Boolean);
    // `service, volume_version = hdr.split()`: any other count is a ValueError, i.e. a 500.
    if (parts.length !== 2) return { label: null, error: new Error('cannot unpack OpenStack-API-Version') };
    volumeVersion = parts[1];
    break;
  }
  // VersionNotFoundForAPIMethod escapes to FaultWrapper: 400 with webob's default text.
  if (volumeVersion === undefined) return { label: null, error: new HttpFault(400) };
  if (volumeVersion === 'latest') return { version: MAX_VERSION, label: MAX_LABEL };
  const m = VERSION_RE.exec(volumeVersion);
  if (!m) {
    return {
      label: null,
      error: new HttpFault(
        400,
        `API Version String ${volumeVersion} is of invalid format. Must be of format MajorNum.MinorNum.`,
      ),
    };
  }
  const label = `${BigInt(m[1])}.${BigInt(m[2])}`;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const v = major * 1000 + minor;
  if (minor >= 1000 || v < MIN_VERSION || v > MAX_VERSION) {
    return {
      label,
      error: new HttpFault(
        406,
        `Version ${label} is not supported by the API. Minimum is ${MIN_LABEL} and maximum is ${MAX_LABEL}.`,
      ),
    };
  }
  return { version: v, label };
}

/** Headers Cinder puts on every v3 response once a version is known. */
export function versionHeaders(label: string | null): Record<string, string> | null {
  if (label === null || isLegacy(label)) return null;
  return { 'OpenStack-API-Version': `volume ${label}`, Vary: VERSION_HEADER };
}
