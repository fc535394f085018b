// Remote exceptions in oslo's failure format, both ways.
//
// A reply's `failure` is a JSON *string* of
//   {class, module, message, tb: [lines], args: [message], kwargs: {...}}
// Python callers (allowed_remote_exmods = ['cinder.exception'] plus builtins) rebuild
// `module.class(*args, **kwargs)`; anything else becomes oslo's RemoteError. We do the same on the
// TS side: cinder.exception classes we know become that CinderException subclass (kwargs kept,
// message = first line, since a re-raised remote exception carries its traceback after a newline);
// everything else - oslo dispatcher errors, builtins, unknown classes - becomes RemoteError.
import { CinderException, EXCEPTION_CLASSES, MessagingTimeout, RemoteError } from '../common/exceptions.js';
import { PythonException } from './errors.js';

export { NoSuchMethod, UnsupportedVersion } from './errors.js';

export const CINDER_EXCEPTION_MODULE = 'cinder.exception';

export interface FailurePayload {
  class: string;
  module: string;
  message: string;
  tb: string[];
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** The class Python knows: the nearest ancestor that exists in cinder/exception.py. */
function cinderClassName(err: CinderException): string {
  for (let c: unknown = err.constructor; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    const name = (c as { name: string }).name;
    if (EXCEPTION_CLASSES[name] === c) return name;
    if (c === CinderException) break;
  }
  return 'CinderException';
}

/** JS error types → the Python builtin a Python caller can rebuild. */
function builtinClassName(err: Error): string {
  switch (err.name) {
    case 'TypeError':
      return 'TypeError';
    case 'RangeError':
    case 'SyntaxError':
      return 'ValueError';
    default:
      return 'Exception';
  }
}

/** kwargs must survive JSON.stringify (oslo's jsonutils falls back to str() the same way). */
function jsonSafe(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    try {
      out[k] = JSON.parse(JSON.stringify(val, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Error ? String(x) : x)) ?? 'null');
    } catch {
      out[k] = String(val);
    }
  }
  return out;
}

/** A Python-looking traceback from a JS stack (most recent call last). */
function traceback(err: unknown, lastLine: string): string[] {
  const frames: string[] = [];
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/.exec(line);
    if (m) frames.push(`  File "${m[2]}", line ${m[3]}, in ${m[1] ?? '<module>'}\n`);
  }
  return ['Traceback (most recent call last):\n', ...frames.reverse(), `${lastLine}\n`];
}

export function failureFromError(err: unknown): FailurePayload {
  let cls: string;
  let module: string;
  let message: string;
  let kwargs: Record<string, unknown> = {};
  if (err instanceof CinderException) {
    cls = cinderClassName(err);
    module = CINDER_EXCEPTION_MODULE;
    message = err.msg;
    // Python's kwargs never hold `message` (it is CinderException's positional parameter);
    // sending it would make Python's klass(*args, **kwargs) fail into a RemoteError.
    const { message: _m, ...rest } = err.kwargs;
    kwargs = { ...rest, code: err.code };
  } else if (err instanceof PythonException) {
    cls = err.pyClass;
    module = err.pyModule;
    message = err.message;
    kwargs = err.kwargs;
  } else if (err instanceof RemoteError) {
    cls = 'RemoteError';
    module = 'oslo_messaging.rpc.client';
    message = err.message;
  } else if (err instanceof MessagingTimeout) {
    cls = 'MessagingTimeout';
    module = 'oslo_messaging.exceptions';
    message = err.message;
  } else if (err instanceof Error) {
    cls = builtinClassName(err);
    module = 'builtins';
    message = err.message;
  } else {
    cls = 'Exception';
    module = 'builtins';
    message = String(err);
  }
  const qualified = module === 'builtins' ? cls : `${module}.${cls}`;
  return { class: cls, module, message, tb: traceback(err, `${qualified}: ${message}`), args: [message], kwargs: jsonSafe(kwargs) };
}

/** The reply's `failure` value: a JSON string. */
export function serializeFailure(err: unknown): string {
  return JSON.stringify(failureFromError(err));
}

const remoteTracebacks = new WeakMap<Error, string[]>();

/** The remote traceback lines of an exception rebuilt by deserializeFailure. */
export function remoteTraceback(err: Error): string[] | undefined {
  return remoteTracebacks.get(err);
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse the failure string (a JSON object is tolerated, although Python would choke on it). */
export function parseFailure(failure: unknown): FailurePayload {
  let data: unknown = failure;
  if (typeof failure === 'string') {
    try {
      data = JSON.parse(failure);
    } catch {
      data = { class: 'Exception', module: 'builtins', message: failure };
    }
  }
  const d = isDict(data) ? data : {};
  return {
    class: typeof d.class === 'string' ? d.class : 'Exception',
    module: typeof d.module === 'string' ? d.module : 'builtins',
    message: d.message === undefined || d.message === null ? '' : String(d.message),
    tb: Array.isArray(d.tb) ? d.tb.map(String) : [],
    args: Array.isArray(d.args) ? d.args : [],
    kwargs: isDict(d.kwargs) ? d.kwargs : {},
  };
}

const firstLine = (s: string) => s.split('\n')[0];

/** Rebuild the exception a reply's `failure` describes. */
export function deserializeFailure(failure: unknown): Error {
  const f = parseFailure(failure);
  // oslo strips a `_Remote` suffix before sending; tolerate it anyway.
  const cls = f.class.replace(/_Remote$/, '');
  const module = f.module.replace(/_Remote$/, '');
  let err: Error | undefined;
  if (module === CINDER_EXCEPTION_MODULE && Object.hasOwn(EXCEPTION_CLASSES, cls)) {
    const Klass = EXCEPTION_CLASSES[cls];
    // Python calls klass(*args, **kwargs): args[0] is the message; an args-less (kwargs-only)
    // failure formats the class template from kwargs.
    const text = typeof f.args[0] === 'string' ? f.args[0] : undefined;
    try {
      err = new Klass(f.kwargs, text ? firstLine(text) : undefined);
    } catch {
      err = undefined;
    }
  }
  err ??= new RemoteError(cls, f.message, f.tb);
  remoteTracebacks.set(err, f.tb);
  return err;
}
