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
export class VolumeIsBusy extends CinderException {
  static override code = 500;
  static override template = 'deleting volume %(volume_name)s that has snapshot';
}
export class NotFound extends CinderException {
  static override code = 404;
  static override template = 'Resource could not be found.';
}
export class VolumeNotFound extends NotFound {
  static override template = 'Volume %(volume_id)s could not be found.';
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

/** Name → class, for rebuilding remote `cinder.exception` failures received over RPC. */
export const EXCEPTION_CLASSES: Record<string, typeof CinderException> = Object.fromEntries(
  [
    CinderException, Invalid, InvalidVolume, InvalidInput, InvalidVolumeAttachMode, InvalidUUID, InvalidAvailabilityZone,
    ExportFailure, VolumeAttached, VolumeIsBusy, NotFound, VolumeNotFound, VolumeAttachmentNotFound,
    NotAuthorized, PolicyNotAuthorized, ConflictNovaUsingAttachment, VolumeBackendAPIException,
    VolumeDriverException, RemoveExportException, DriverNotInitialized, InvalidConnectorException,
    ISCSITargetCreateFailed, ISCSITargetRemoveFailed, ISCSITargetAttachFailed, ISCSITargetDetachFailed,
    VolumeGroupNotFound, ServiceTooOld, NoValidBackend, RPCTimeout,
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
