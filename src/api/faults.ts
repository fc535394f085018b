// Cinder's error bodies and the exception → HTTP mapping of cinder/api/openstack/wsgi.py
// (ResourceExceptionHandler, Fault) and cinder/api/middleware/fault.py (FaultWrapper).
// Body shape: {"<faultName>": {"code": <status>, "message": "<text>"}}.
import {
  CinderException,
  ConflictNovaUsingAttachment,
  Invalid,
  NotAuthorized,
  NotFound,
} from '../common/exceptions.js';
import { pyJsonString } from '../common/python.js';

/** wsgi.Fault._fault_names; every other status (500, 406, ...) is computeFault. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? 'computeFault';
}

/** webob.exc titles and default explanations (whitespace-normalised as webob serves them). */
export const WEBOB_STATUS: Record<number, { title: string; explanation: string }> = (() => {
  const bad = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';
  const erred = 'The server has either erred or is incapable of performing the requested operation.';
  const t: [number, string, string][] = [
    [400, 'Bad Request', bad],
    [401, 'Unauthorized',
      'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.'],
    [402, 'Payment Required', 'Access was denied for financial reasons.'],
    [403, 'Forbidden', 'Access was denied to this resource.'],
    [404, 'Not Found', 'The resource could not be found.'],
    [405, 'Method Not Allowed', bad],
    [406, 'Not Acceptable', bad],
    [407, 'Proxy Authentication Required', 'Authentication with a local proxy is needed.'],
    [408, 'Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
    [409, 'Conflict', 'There was a conflict when trying to complete your request.'],
    [410, 'Gone', 'This resource is no longer available. No forwarding address is given.'],
    [411, 'Length Required', 'Content-Length header required.'],
    [412, 'Precondition Failed', 'Request precondition failed.'],
    [413, 'Request Entity Too Large', 'The body of your request was too large for this server.'],
    [414, 'Request-URI Too Long', 'The request URI was too long for this server.'],
    [415, 'Unsupported Media Type', bad],
    [416, 'Request Range Not Satisfiable', 'The Range requested is not available.'],
    [417, 'Expectation Failed', 'Expectation failed.'],
    [422, 'Unprocessable Entity', 'Unable to process the contained instructions'],
    [423, 'Locked', 'The resource is locked'],
    [424, 'Failed Dependency',
      'The method could not be performed because the requested action dependended on another action and that action failed'],
    [428, 'Precondition Required', 'This request is required to be conditional'],
    [429, 'Too Many Requests', 'The client has sent too many requests in a given amount of time'],
    [431, 'Request Header Fields Too Large', 'The request header fields were too large'],
    [451, 'Unavailable For Legal Reasons', 'The resource is not available due to legal reasons.'],
    [500, 'Internal Server Error', erred],
    [501, 'Not Implemented', erred],
    [502, 'Bad Gateway', 'Bad gateway.'],
    [503, 'Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
    [504, 'Gateway Timeout', 'The gateway has timed out.'],
    [505, 'HTTP Version Not Supported', 'The HTTP version is not supported.'],
    [507, 'Insufficient Storage', 'There was not enough space to save the resource'],
    [511, 'Network Authentication Required', 'Network authentication is required'],
  ];
  return Object.fromEntries(t.map(([code, title, explanation]) => [code, { title, explanation }]));
})();

export const GENERIC_500 = WEBOB_STATUS[500].explanation;

/** A `webob.exc.HTTP*` raised by a controller: that status, its explanation (or webob's default). */
export class HttpFault extends Error {
  readonly explanation: string;
  constructor(
    readonly status: number,
    explanation?: string,
    /** webob's `headers=` (e.g. HTTPRequestEntityTooLarge(headers={'Retry-After': '0'})): set on the answer. */
    readonly headers?: Record<string, string>,
  ) {
    const text = explanation ?? WEBOB_STATUS[status]?.explanation ?? GENERIC_500;
    super(text);
    this.name = 'HttpFault';
    this.explanation = text;
  }
}

/** jsonschema failure, as exception.ValidationError (an Invalid: 400 with the detail). */
export class ValidationFailed extends HttpFault {
  constructor(detail: string) {
    super(400, detail);
    this.name = 'ValidationFailed';
  }
}

/**
 * Where Cinder would hit a Python TypeError (a body given to a method that takes none, a missing
 * argument): ResourceExceptionHandler answers 400 with webob's default text. JS TypeErrors are
 * bugs and stay 500, like Python's AttributeError.
 */
export class PyTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PyTypeError';
  }
}

export interface FaultInfo {
  status: number;
  message: string;
}

/** Remote (RPC-rebuilt) exceptions carry "message\n<traceback>"; Cinder's port shows line one. */
export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** Exception → (status, message) as ResourceExceptionHandler, then FaultWrapper, decide. */
export function faultFromError(err: unknown): FaultInfo {
  if (err instanceof HttpFault) return { status: err.status, message: err.explanation };
  if (err instanceof NotAuthorized) return { status: 403, message: firstLine(err.message) };
  if (err instanceof Invalid || err instanceof NotFound) return { status: err.code, message: firstLine(err.message) };
  if (err instanceof CinderException && (err.code === 400 || err.code === 403 || err.code === 404)) {
    return { status: err.code, message: firstLine(err.message) };
  }
  if (err instanceof PyTypeError) return { status: 400, message: WEBOB_STATUS[400].explanation };
  // FaultWrapper: status from `code` when the exception has one; webob's text for it, except
  // for `safe` exceptions, which show "<Class>: <msg>".
  let status = 500;
  if (err instanceof CinderException) status = err.code;
  // Python's getattr(inner, 'code', 500): any exception with a numeric code, e.g. novaclient's.
  else if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'number') status = code;
  }
  if (!WEBOB_STATUS[status] || status < 400) status = 500;
  if (err instanceof ConflictNovaUsingAttachment || (err instanceof CinderException && err.safe)) {
    const e = err as CinderException;
    return { status, message: `${e.constructor.name}: ${firstLine(e.msg)}` };
  }
  return { status, message: WEBOB_STATUS[status].explanation };
}

/** The JSON document of a fault, spaced and escaped as Python's json.dumps writes it. */
export function faultBody(status: number, message: string): string {
  return `{"${faultName(status)}": {"code": ${status}, "message": ${pyJsonString(message)}}}`;
}
