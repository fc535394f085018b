// Cinder's exception classes (cinder/exception.py), as far as the attach/detach path needs them.
// Each carries the HTTP code Cinder gives it, its message template and the format kwargs, because
// the kwargs travel over RPC (oslo failure payload) and Python callers rebuild the class from them.

export type ExcKwargs = Record<string, unknown>;

export class CinderException extends Error {
  static code = 500;
  static template = 'An unknown exception occurred.';
  /** FaultWrapper shows `<Class>: <msg>` instead of webob's generic text only for safe classes. */
  static safe = false;
  readonly kwargs: ExcKwargs;
  readonly code: number;
  /** The message without any remote traceback (Cinder's `.msg`). */
  readonly msg: string;

  constructor(kwargs: ExcKwargs = {}, message?: string) {
    const ctor = new.target as typeof CinderException;
    const msg = message ?? format(ctor.template, kwargs);
    super(msg);
    this.name = ctor.name;
    this.code = typeof kwargs.code === 'number' ? kwargs.code : ctor.code;
    this.kwargs = { ...kwargs, code: this.code };
    this.msg = msg;
  }

  get safe(): boolean {
    return (this.constructor as typeof CinderException).safe;
  }
}

function format(template: string, kwargs: ExcKwargs): string {
  return template.replace(/%\((\w+)\)s/g, (_m, k: string) => String(kwargs[k] ?? ''));
}

export class Invalid extends CinderException {
  static override code = 400;
  static override template = 'Unacceptable parameters.';
}
export class InvalidVolume extends Invalid {
  static override template = 'Invalid volume: %(reason)s';
}
export class InvalidInput extends Invalid {
  static override template = 'Invalid input received: %(reason)s';
}
/** InvalidParameterValue: a 400 whose text is the checker's own sentence. */
export class InvalidParameterValue extends Invalid {
  static override template = '%(err)s';
}
export class InvalidVolumeAttachMode extends Invalid {
  static override template = "Invalid attaching mode '%(mode)s' for volume %(volume_id)s.";
}
export class InvalidAvailabilityZone extends Invalid {
  static override template = "Availability zone '%(az)s' is invalid.";
}
export class InvalidUUID extends Invalid {
  static override template = 'Expected a UUID but received %(uuid)s.';
}
export class ExportFailure extends Invalid {
  static override template = 'Failed to export for volume: %(reason)s';
}
export class VolumeAttached extends Invalid {
  static override template = 'Volume %(volume_id)s is still attached, detach volume first.';
}
export class TargetUpdateFailed extends CinderException {
  static override template = 'Failed to update target for volume %(volume_id)s.';
}
export class VolumeIsBusy extends CinderException {
  static override code = 500;
  static override template = 'deleting volume %(volume_name)s that has snapshot';
}
export class NotFound extends CinderException {
  static override code = 404;
  static override template = 'Resource could not be found.';
}
/** cinder/exception.py ServiceNotFound: the template depends on whether a host is given. */
export class ServiceNotFound extends NotFound {
  constructor(kwargs: ExcKwargs = {}, message?: string) {
    const text = kwargs.host ? `Service ${kwargs.service_id} could not be found on host ${kwargs.host}.` : `Service ${kwargs.service_id} could not be found.`;
    super(kwargs, message ?? text);
  }
}
export class HostNotFound extends NotFound {
  static override template = 'Host %(host)s could not be found.';
}
export class VolumeNotFound extends NotFound {
  static override template = 'Volume %(volume_id)s could not be found.';
}
// Raised by the volume create controller for sources this port does not have (snapshots, groups,
// backups); not in EXCEPTION_CLASSES, as nothing sends them over RPC here.
export class SnapshotNotFound extends NotFound {
  static override template = 'Snapshot %(snapshot_id)s could not be found.';
}
export class GroupNotFound extends NotFound {
  static override template = 'Group %(group_id)s could not be found.';
}
export class BackupNotFound extends NotFound {
  static override template = 'Backup %(backup_id)s could not be found.';
}
export class VolumeAttachmentNotFound extends NotFound {
  static override template = 'Volume attachment could not be found with filter: %(filter)s.';
}
export class NotAuthorized extends CinderException {
  static override code = 403;
  static override template = 'Not authorized.';
}
export class PolicyNotAuthorized extends NotAuthorized {
  static override template = "Policy doesn't allow %(action)s to be performed.";
}
export class ConflictNovaUsingAttachment extends CinderException {
  static override code = 409;
  static override safe = true;
  static override template = 'Detach volume from instance %(instance_id)s using the Compute API';
}
export class VolumeBackendAPIException extends CinderException {
  static override template = 'Bad or unexpected response from the storage volume backend API: %(data)s';
}
export class VolumeDriverException extends CinderException {
  static override template = 'Volume driver reported an error: %(message)s';
}
export class RemoveExportException extends VolumeDriverException {
  static override template = 'Failed to remove export for volume %(volume)s: %(reason)s';
}
export class DriverNotInitialized extends CinderException {
  static override template = 'Volume driver not ready.';
}
export class InvalidConnectorException extends VolumeDriverException {
  static override template = "Connector doesn't have required information: %(missing)s";
}
export class ISCSITargetCreateFailed extends CinderException {
  static override template = 'Failed to create iscsi target for volume %(volume_id)s.';
}
export class ISCSITargetRemoveFailed extends CinderException {
  static override template = 'Failed to remove iscsi target for volume %(volume_id)s.';
}
export class ISCSITargetAttachFailed extends CinderException {
  static override template = 'Failed to attach iSCSI target for volume %(volume_id)s.';
}
export class ISCSITargetDetachFailed extends CinderException {
  static override template = 'Failed to detach iSCSI target for volume %(volume_id)s.';
}
export class VolumeGroupNotFound extends CinderException {
  static override template = 'Unable to find Volume Group: %(vg_name)s';
}
export class ServiceTooOld extends CinderException {
  static override code = 400;
  static override template = 'Service is too old to fulfil this request.';
}
/** cinder/exception.py RPCTimeout: a backend did not answer a capabilities request in time (502). */
export class RPCTimeout extends CinderException {
  static override code = 502;
  static override template = 'Timeout while requesting capabilities from backend %(service)s.';
}
/** cinder/exception.py NoValidBackend: the scheduler found nowhere to place the resource (HTTP 500). */
export class NoValidBackend extends CinderException {
  static override template = 'No valid backend was found. %(reason)s';
}
// Retype (cinder/exception.py).
export class VolumeMigrationFailed extends CinderException {
  static override template = 'Volume migration failed: %(reason)s';
}
export class ParameterNotFound extends NotFound {
  static override template = 'Could not find parameter %(param)s';
}

// Volume types (cinder/exception.py).
export class Duplicate extends CinderException {}
export class InvalidVolumeType extends Invalid {
  static override template = 'Invalid volume type: %(reason)s';
}
export class VolumeTypeNotFound extends NotFound {
  static override template = 'Volume type %(volume_type_id)s could not be found.';
}
export class VolumeTypeNotFoundByName extends VolumeTypeNotFound {
  static override template = 'Volume type with name %(volume_type_name)s could not be found.';
}
export class VolumeTypeAccessNotFound extends NotFound {
  static override template = 'Volume type access not found for %(volume_type_id)s / %(project_id)s combination.';
}
export class VolumeTypeExtraSpecsNotFound extends NotFound {
  static override template = 'Volume Type %(volume_type_id)s has no extra specs with key %(extra_specs_key)s.';
}
export class VolumeTypeInUse extends CinderException {
  static override template = 'Volume Type %(volume_type_id)s deletion is not allowed with volumes present with the type.';
}
export class VolumeTypeDeletionError extends Invalid {
  static override template = 'The volume type %(volume_type_id)s is the only currently defined volume type and cannot be deleted.';
}
export class VolumeTypeDefaultDeletionError extends Invalid {
  static override template = 'The volume type %(volume_type_id)s is a default volume type and cannot be deleted.';
}
export class VolumeTypeDefaultMisconfiguredError extends CinderException {
  static override template = 'The request cannot be fulfilled as the default volume type %(volume_type_name)s cannot be found.';
}
export class VolumeTypeProjectDefaultNotFound extends NotFound {
  static override template = 'Default type for project %(project_id)s not found.';
}
export class VolumeTypeExists extends Duplicate {
  static override template = 'Volume Type %(id)s already exists.';
}
export class VolumeTypeAccessExists extends Duplicate {
  static override template = 'Volume type access for %(volume_type_id)s / %(project_id)s combination already exists.';
}
/** validators.py's `name` format raises it; its text is the whole 400. */
export class InvalidName extends Invalid {
  static override template = "An invalid 'name' value was provided. %(reason)s";
}
export class GlanceStoreNotFound extends NotFound {
  static override template = 'Store %(store_id)s not enabled in glance.';
}
export class VolumeTypeCreateFailed extends CinderException {
  static override template = 'Cannot create volume_type with name %(name)s and specs %(extra_specs)s';
}
export class VolumeTypeUpdateFailed extends CinderException {
  static override template = 'Cannot update volume_type %(id)s';
}
// QoS specs and volume type encryption (cinder/exception.py).
export class QoSSpecsExists extends Duplicate {
  static override template = 'QoS Specs %(specs_id)s already exists.';
}
export class QoSSpecsCreateFailed extends CinderException {
  static override template = 'Failed to create qos_specs: %(name)s with specs %(qos_specs)s.';
}
export class QoSSpecsUpdateFailed extends CinderException {
  static override template = 'Failed to update qos_specs: %(specs_id)s with specs %(qos_specs)s.';
}
export class QoSSpecsNotFound extends NotFound {
  static override template = 'No such QoS spec %(specs_id)s.';
}
export class QoSSpecsAssociateFailed extends CinderException {
  static override template = 'Failed to associate qos_specs: %(specs_id)s with type %(type_id)s.';
}
export class QoSSpecsDisassociateFailed extends CinderException {
  static override template = 'Failed to disassociate qos_specs: %(specs_id)s with type %(type_id)s.';
}
export class QoSSpecsKeyNotFound extends NotFound {
  static override template = 'QoS spec %(specs_id)s has no spec with key %(specs_key)s.';
}
export class InvalidQoSSpecs extends Invalid {
  static override template = 'Invalid qos specs: %(reason)s';
}
export class QoSSpecsInUse extends CinderException {
  static override template = 'QoS Specs %(specs_id)s is still associated with entities.';
}
export class VolumeTypeEncryptionExists extends Invalid {
  static override template = 'Volume type encryption for type %(type_id)s already exists.';
}
export class VolumeTypeEncryptionNotFound extends NotFound {
  static override template = 'Volume type encryption for type %(type_id)s does not exist.';
}
// Quotas and transfers (cinder/exception.py): QuotaError and its subclasses are 413 and safe, so
// FaultWrapper shows "<Class>: <msg>".
export class QuotaError extends CinderException {
  static override code = 413;
  static override template = 'Quota exceeded: code=%(code)s';
  static override safe = true;
  /** FaultWrapper sets these on the answer. */
  static headers = { 'Retry-After': '0' };
}
export class VolumeSizeExceedsAvailableQuota extends QuotaError {
  static override template =
    'Requested volume or snapshot exceeds allowed %(name)s quota. Requested %(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.';
}
export class VolumeSizeExceedsLimit extends QuotaError {
  static override template = 'Requested volume size %(size)sG is larger than maximum allowed limit %(limit)sG.';
}
export class VolumeLimitExceeded extends QuotaError {
  static override template = "Maximum number of volumes allowed (%(allowed)s) exceeded for quota '%(name)s'.";
}
export class UnexpectedOverQuota extends QuotaError {
  static override template = 'Unexpected over quota on %(name)s.';
}
export class InvalidQuotaValue extends Invalid {
  static override template = 'Change would make usage less than 0 for the following resources: %(unders)s';
}
export class QuotaNotFound extends NotFound {
  static override template = 'Quota could not be found';
}
export class QuotaResourceUnknown extends QuotaNotFound {
  static override template = 'Unknown quota resources %(unknown)s.';
}
export class InvalidAuthKey extends Invalid {
  static override template = 'Invalid auth key: %(reason)s';
}
export class TransferNotFound extends NotFound {
  static override template = 'Transfer %(transfer_id)s could not be found.';
}
const QUOTA_TRANSFER_EXCEPTIONS = [
  QuotaError, VolumeSizeExceedsAvailableQuota, VolumeSizeExceedsLimit, VolumeLimitExceeded, UnexpectedOverQuota,
  InvalidQuotaValue, QuotaNotFound, QuotaResourceUnknown, InvalidAuthKey, TransferNotFound,
];
const QOS_ENCRYPTION_EXCEPTIONS = [
  QoSSpecsExists, QoSSpecsCreateFailed, QoSSpecsUpdateFailed, QoSSpecsNotFound, QoSSpecsAssociateFailed,
  QoSSpecsDisassociateFailed, QoSSpecsKeyNotFound, InvalidQoSSpecs, QoSSpecsInUse, VolumeTypeEncryptionExists,
  VolumeTypeEncryptionNotFound,
];
const VOLUME_TYPE_EXCEPTIONS = [
  Duplicate, InvalidVolumeType, VolumeTypeNotFound, VolumeTypeNotFoundByName, VolumeTypeAccessNotFound,
  VolumeTypeExtraSpecsNotFound, VolumeTypeInUse, VolumeTypeDeletionError, VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError, VolumeTypeProjectDefaultNotFound, VolumeTypeExists, VolumeTypeAccessExists,
  VolumeTypeCreateFailed, VolumeTypeUpdateFailed, InvalidName, GlanceStoreNotFound,
];

/** Name → class, for rebuilding remote `cinder.exception` failures received over RPC. */
export const EXCEPTION_CLASSES: Record<string, typeof CinderException> = Object.fromEntries(
  [
    CinderException, Invalid, InvalidVolume, InvalidInput, InvalidVolumeAttachMode, InvalidUUID, InvalidAvailabilityZone,
    ExportFailure, VolumeAttached, VolumeIsBusy, NotFound, VolumeNotFound, VolumeAttachmentNotFound,
    NotAuthorized, PolicyNotAuthorized, ConflictNovaUsingAttachment, VolumeBackendAPIException,
    VolumeDriverException, RemoveExportException, DriverNotInitialized, InvalidConnectorException,
    ISCSITargetCreateFailed, ISCSITargetRemoveFailed, ISCSITargetAttachFailed, ISCSITargetDetachFailed,
    VolumeGroupNotFound, ServiceTooOld, NoValidBackend, RPCTimeout, VolumeMigrationFailed, ParameterNotFound,
    ...VOLUME_TYPE_EXCEPTIONS,
    ...QOS_ENCRYPTION_EXCEPTIONS,
    ...QUOTA_TRANSFER_EXCEPTIONS,
  ].map((c) => [c.name, c]),
);

/**
 * An exception that came back over RPC from a class we do not know, or from a module other than
 * cinder.exception (oslo's RemoteError): the API maps it to 500 like Cinder's FaultWrapper.
 */
export class RemoteError extends Error {
  constructor(
    readonly excType: string,
    readonly value: string,
    readonly tb: string[] = [],
  ) {
    super(`Remote error: ${excType} ${value}`);
    this.name = 'RemoteError';
  }
}

/** oslo.messaging MessagingTimeout: no reply within rpc_response_timeout. */
export class MessagingTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessagingTimeout';
  }
}

// The volume metadata API's errors (cinder/exception.py).
export class VolumeMetadataNotFound extends NotFound {
  static override template = 'Volume %(volume_id)s has no metadata with key %(metadata_key)s.';
}
export class InvalidVolumeMetadata extends Invalid {
  static override template = 'Invalid metadata: %(reason)s';
}
export class InvalidVolumeMetadataSize extends Invalid {
  static override template = 'Invalid metadata size: %(reason)s';
}
