// Exceptions that Python knows by (module, class) but that are not Cinder's own
// (cinder.exception lives in src/common/exceptions.ts). The failure serializer reads `pyModule` /
// `pyClass` so a Python caller sees exactly what oslo.messaging / oslo.versionedobjects would send.

export class PythonException extends Error {
  constructor(
    readonly pyModule: string,
    readonly pyClass: string,
    message: string,
    /** Sent as the failure's `kwargs` (oslo's own exceptions carry none). */
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = pyClass;
  }
}

const DISPATCHER = 'oslo_messaging.rpc.dispatcher';
const OVO_EXC = 'oslo_versionedobjects.exception';

/** Unknown method, or a private one (`_`-prefixed, refused by DefaultRPCAccessPolicy). */
export class NoSuchMethod extends PythonException {
  constructor(readonly method: string) {
    super(DISPATCHER, 'NoSuchMethod', `Endpoint does not support RPC method ${method}`);
  }
}

/** No endpoint is compatible with the requested version/namespace. */
export class UnsupportedVersion extends PythonException {
  constructor(
    readonly version: string,
    readonly method: string,
  ) {
    super(DISPATCHER, 'UnsupportedVersion', `Endpoint does not support RPC version ${version}. Attempted method: ${method}`);
  }
}

/** An OVO from another namespace (e.g. `nova.Volume`). oslo kwargs include code 500. */
export class UnsupportedObjectError extends PythonException {
  constructor(objtype: string) {
    super(OVO_EXC, 'UnsupportedObjectError', `Unsupported object type ${objtype}`, { objtype, code: 500 });
  }
}

/** An OVO newer than we implement (e.g. Volume 1.10 when we speak 1.9). */
export class IncompatibleObjectVersion extends PythonException {
  constructor(objname: string, objver: string, supported: string) {
    super(OVO_EXC, 'IncompatibleObjectVersion', `Version ${objver} of ${objname} is not supported, supported version is ${supported}`, {
      objname,
      objver,
      supported,
      code: 500,
    });
  }
}

/** Python's builtins.ValueError (bad datetime, bad read_deleted, ...). */
export class PyValueError extends PythonException {
  constructor(message: string) {
    super('builtins', 'ValueError', message);
  }
}

/** Envelope with an `oslo.version` we do not speak: oslo drops such messages without a reply. */
export class UnsupportedRpcEnvelopeVersion extends Error {
  constructor(readonly version: unknown) {
    super(`Specified RPC envelope version, ${String(version)}, not supported by this endpoint.`);
    this.name = 'UnsupportedRpcEnvelopeVersion';
  }
}

/** A message we cannot decode at all (no JSON content type, bad JSON, not a dict). */
export class MessageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageDecodeError';
  }
}

/** A mandatory publish (a reply) was returned by the broker for longer than the retry window. */
export class MessageUndeliverable extends Error {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
  ) {
    super(`Message undeliverable to exchange '${exchange}' with routing key '${routingKey}'`);
    this.name = 'MessageUndeliverable';
  }
}
