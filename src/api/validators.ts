// What cinder/api/validation/validators.py adds to jsonschema (the engine is jsonschema.ts):
// * the format checkers it registers (FormatChecker.cls_checks): its `uuid` (oslo is_uuid_like)
//   fails as `'x' is not a 'uuid'`; its name/description/reset-status/... checkers raise a Cinder
//   exception (InvalidName, InvalidInput, InvalidParameterValue) that becomes the whole 400 text;
// * _SchemaValidator: `minimum`/`maximum` compare _number_from_str(value) (int(str) for numeric
//   strings), and validate() words the first error as `Invalid input for field/attribute <last
//   path element>. Value: <str(value)>. <message>`, or the bare message when the error is at the root.
import { InvalidInput, InvalidName, InvalidParameterValue } from '../common/exceptions.js';
import { isUuidLike } from '../common/uuid.js';
import { VolumeMigrationStatus, VolumeStatus } from '../objects/volume.js';
import { PyFloat, dictGet, isPyDict, pyIntFromStr, pyLen, pyRepr, pyStr, pyStrip, pyTruthy } from '../common/python.js';
import type { SchemaError } from './jsonschema.js';

/** Cinder's ValidationError text for a jsonschema error (validators.py `_SchemaValidator.validate`). */
export function cinderMessage(err: SchemaError): string {
  if (err.path.length === 0) return err.message;
  const last = err.path[err.path.length - 1];
  return `Invalid input for field/attribute ${last}. Value: ${pyStr(err.instance)}. ${err.message}`;
}

/**
 * Cinder's `_number_from_str` before minimum/maximum: int(value), else float(value), else skip.
 * Only the shapes a schema can let through are handled: numbers, numeric strings, bools.
 */
export function numberFromStr(v: unknown): number | bigint | PyFloat | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return typeof v === 'number' && !Number.isInteger(v) ? Math.trunc(v) : v;
  if (v instanceof PyFloat) return Number.isFinite(v.value) ? Math.trunc(v.value) : null;
  if (typeof v === 'string') {
    const i = pyIntFromStr(v);
    if (i !== null) return Number.isSafeInteger(Number(i)) ? Number(i) : i;
    const t = pyStrip(v);
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return new PyFloat(Number(t));
    return null;
  }
  return null;
}

/** Cinder's `_validate_string_length(value, name, mandatory=False, 0, 255, remove_whitespaces=True)`. */
function nonMandatoryLength(label: string) {
  return (v: unknown): void => {
    if (v === null || v === undefined || v === '' || v === false || v === 0) return;
    if (typeof v !== 'string') {
      throw new InvalidInput({ reason: `${label} is not a string or unicode` });
    }
    const len = pyLen(pyStrip(v));
    if (len > 255) throw new InvalidInput({ reason: `${label} has ${len} characters, more than 255.` });
  };
}

/**
 * _validate_disabled_reason: _validate_string_length(mandatory=False, 1..255 after strip). Cinder
 * registers it with raises=InvalidInput, so a failure is the plain format error, not its text.
 */
function disabledReasonChecker(v: unknown): boolean {
  if (!pyTruthy(v) || typeof v !== 'string') return true;
  const len = pyLen(pyStrip(v));
  return len >= 1 && len <= 255;
}

/** Python's repr of a tuple of strings, as the reset-status checkers print VolumeStatus.ALL. */
const tupleRepr = (xs: readonly string[]) => `(${xs.map(pyRepr).join(', ')})`;
const listRepr = (xs: readonly string[]) => `[${xs.map(pyRepr).join(', ')}]`;

/** The attach statuses os-reset_status accepts. */
export const RESET_ATTACH_STATUSES = ['attached', 'detached'] as const;

/**
 * One of the reset-status checkers (validators.py `_validate_volume_*status`): a truthy value whose
 * lower-case form is not in `valid` raises InvalidParameterValue, which escapes jsonschema (the
 * checkers are registered without `raises`), so the 400 text is the bare sentence.
 */
function statusChecker(label: string, valid: readonly string[], shown: string) {
  return (v: unknown): void => {
    if (!pyTruthy(v)) return;
    if (typeof v === 'string' && (valid as readonly string[]).includes(v.toLowerCase())) return;
    throw new InvalidParameterValue({ err: `${label}: ${pyStr(v)} is invalid, valid statuses are: ${shown}.` });
  };
}

/** `_validate_volume_reset_body`: at least one of the three keys must be truthy. */
function resetBodyChecker(v: unknown): void {
  const get = (k: string) => (isPyDict(v) ? dictGet(v, k) : undefined);
  if (!pyTruthy(get('status')) && !pyTruthy(get('attach_status')) && !pyTruthy(get('migration_status'))) {
    throw new InvalidParameterValue({ err: "Must specify 'status', 'attach_status' or 'migration_status' for update." });
  }
}

/**
 * validators.py `_validate_name` (parameter_types.name): registered with InvalidName as its
 * `raises`, whose message Cinder's validator reports as the whole 400 text.
 */
function validateName(v: unknown): boolean {
  if (!pyTruthy(v)) throw new InvalidName({ reason: "The 'name' can not be None." });
  if (typeof v === 'string' && pyLen(pyStrip(v)) === 0) throw new InvalidName({ reason: "The 'name' can not be empty." });
  return true;
}

/**
 * validators.py `_validate_name_skip_leading_trailing_spaces` (InvalidName as its `raises`, like
 * `_validate_name`): a falsy name is "None", the stripped name must be 1..255 characters.
 */
function nameSkipLeadingTrailingSpaces(v: unknown): boolean {
  if (!pyTruthy(v)) throw new InvalidName({ reason: "The 'name' can not be None." });
  const len = typeof v === 'string' ? pyLen(pyStrip(v)) : 1;
  if (len === 0) throw new InvalidName({ reason: "The 'name' can not be empty." });
  if (len > 255) throw new InvalidName({ reason: "The 'name' can not be greater than 255 characters." });
  return true;
}

/** validators.py `_validate_key_size` (no `raises`: its InvalidInput escapes jsonschema): strutils.is_int_like. */
function keySizeChecker(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  const intLike =
    typeof v === 'bigint' ||
    (typeof v === 'number' && Number.isInteger(v)) ||
    (typeof v === 'string' && pyIntFromStr(v)?.toString() === v);
  if (!intLike) throw new InvalidInput({ reason: 'key_size must be an integer.' });
  return true;
}

/** Format checkers Cinder registers (validators.py). A checker returns false or throws. */
export const FORMATS: Record<string, (v: unknown) => boolean | void> = {
  uuid: isUuidLike,
  name: validateName,
  name_non_mandatory_remove_white_spaces: nonMandatoryLength('name'),
  description_non_mandatory_remove_white_spaces: nonMandatoryLength('description'),
  validate_volume_reset_body: resetBodyChecker,
  name_skip_leading_trailing_spaces: nameSkipLeadingTrailingSpaces,
  key_size: keySizeChecker,
  // validators.py _validate_disabled_reason (os-services disable-log-reason).
  disabled_reason: disabledReasonChecker,
  // validators.py _validate_log_level: utils.get_log_method (os-services set-log).
  level: (v) => {
    const s = v === null || v === undefined || v === '' ? '' : String(v);
    if (!['INFO', 'WARNING', 'ERROR', 'DEBUG'].includes(s.toUpperCase())) {
      throw new InvalidInput({ reason: `${s} is not a valid log level.` });
    }
  },
  volume_status: statusChecker('Volume status', VolumeStatus, tupleRepr(VolumeStatus)),
  volume_attach_status: statusChecker('Volume attach status', RESET_ATTACH_STATUSES, listRepr(RESET_ATTACH_STATUSES)),
  volume_migration_status: statusChecker(
    'Volume migration status',
    VolumeMigrationStatus,
    tupleRepr(VolumeMigrationStatus),
  ),
};
