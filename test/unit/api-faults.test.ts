// Exception → HTTP mapping (wsgi.ResourceExceptionHandler, then FaultWrapper) and fault names.
import { EndpointNotFound, NovaClientError, SessionError } from '../../src/compute/nova.js';
import { describe, expect, it } from 'vitest';
import {
  CinderException,
  ConflictNovaUsingAttachment,
  DriverNotInitialized,
  InvalidInput,
  InvalidVolume,
  MessagingTimeout,
  NotAuthorized,
  PolicyNotAuthorized,
  RemoteError,
  RemoveExportException,
  ServiceTooOld,
  VolumeAttachmentNotFound,
  VolumeBackendAPIException,
  VolumeNotFound,
} from '../../src/common/exceptions.js';
import { HttpFault, PyTypeError, ValidationFailed, faultBody, faultFromError, faultName } from '../../src/api/faults.js';

const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';

describe('faultName', () => {
  it.each([
    [400, 'badRequest'], [401, 'unauthorized'], [403, 'forbidden'], [404, 'itemNotFound'], [405, 'badMethod'],
    [409, 'conflictingRequest'], [413, 'overLimit'], [415, 'badMediaType'], [501, 'notImplemented'],
    [503, 'serviceUnavailable'], [500, 'computeFault'], [406, 'computeFault'], [502, 'computeFault'], [422, 'computeFault'],
  ])('%i -> %s', (status, name) => {
    expect(faultName(status)).toBe(name);
  });

  it('faultBody is spaced like Python json.dumps', () => {
    expect(faultBody(404, 'Volume x could not be found.')).toBe('{"itemNotFound": {"code": 404, "message": "Volume x could not be found."}}');
    expect(faultBody(400, 'Value: \u00e9.')).toBe('{"badRequest": {"code": 400, "message": "Value: \\u00e9."}}');
  });
});

describe('faultFromError', () => {
  it('NotAuthorized (incl. PolicyNotAuthorized) is 403 with its text', () => {
    expect(faultFromError(new PolicyNotAuthorized({ action: 'volume_extension:volume_actions:detach' }))).toEqual({
      status: 403,
      message: "Policy doesn't allow volume_extension:volume_actions:detach to be performed.",
    });
    expect(faultFromError(new NotAuthorized())).toEqual({ status: 403, message: 'Not authorized.' });
  });

  it('Invalid and NotFound keep their code and text', () => {
    expect(faultFromError(new InvalidVolume({ reason: 'Volume status must be available to reserve, but the status is attaching.' }))).toEqual({
      status: 400,
      message: 'Invalid volume: Volume status must be available to reserve, but the status is attaching.',
    });
    expect(faultFromError(new VolumeNotFound({ volume_id: 'v1' }))).toEqual({ status: 404, message: 'Volume v1 could not be found.' });
    expect(faultFromError(new VolumeAttachmentNotFound({ filter: 'attachment_id = a' }))).toEqual({
      status: 404,
      message: 'Volume attachment could not be found with filter: attachment_id = a.',
    });
    expect(faultFromError(new ServiceTooOld())).toEqual({ status: 400, message: 'Service is too old to fulfil this request.' });
  });

  it('a remote exception (message + "\\n" + traceback) shows its first line only', () => {
    const remote = new InvalidVolume(
      { reason: 'Detach volume failed: More than one attachment, but no attachment_id provided.' },
      'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.\nTraceback (most recent call last):\n  File "x", line 1',
    );
    expect(faultFromError(remote)).toEqual({
      status: 400,
      message: 'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.',
    });
  });

  it('ConflictNovaUsingAttachment is safe: 409 "<Class>: <msg>"', () => {
    expect(faultFromError(new ConflictNovaUsingAttachment({ instance_id: 'i-1' }))).toEqual({
      status: 409,
      message: 'ConflictNovaUsingAttachment: Detach volume from instance i-1 using the Compute API',
    });
    expect(faultFromError(new ConflictNovaUsingAttachment({ instance_id: '' })).message).toBe(
      'ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API',
    );
  });

  it.each([
    ['VolumeBackendAPIException', new VolumeBackendAPIException({ data: 'secret detail' })],
    ['DriverNotInitialized', new DriverNotInitialized()],
    ['RemoveExportException', new RemoveExportException({ volume: 'v', reason: 'r' })],
    ['RemoteError', new RemoteError('DBError', 'boom')],
    ['MessagingTimeout', new MessagingTimeout('Timed out waiting for a reply')],
    ['TypeError (JS bug)', new TypeError("Cannot read properties of null (reading 'get')")],
    ['plain Error', new Error('x')],
    ['a string', 'oops'],
    ['CinderException with an odd code', new CinderException({ code: 200 })],
  ])('%s is 500 with the generic text', (_name, err) => {
    expect(faultFromError(err)).toEqual({ status: 500, message: GENERIC_500 });
  });

  it("a foreign exception with a numeric code (novaclient's) takes that status and webob's text", () => {
    expect(faultFromError(new NovaClientError(503, 'Nova is down (HTTP 503)'))).toEqual({
      status: 503,
      message: 'The server is currently unavailable. Please try again at a later time.',
    });
    expect(faultFromError(new NovaClientError(403, 'Policy forbids it (HTTP 403)'))).toEqual({ status: 403, message: 'Access was denied to this resource.' });
    // keystoneauth's failures and a missing endpoint carry no code: 500
    expect(faultFromError(new EndpointNotFound('no compute endpoint'))).toEqual({ status: 500, message: GENERIC_500 });
    expect(faultFromError(new SessionError('refused'))).toEqual({ status: 500, message: GENERIC_500 });
    // a Node errno code is a string, not a status
    expect(faultFromError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toEqual({ status: 500, message: GENERIC_500 });
  });

  it('other codes from FaultWrapper get webob texts', () => {
    expect(faultFromError(new CinderException({ code: 413 }))).toEqual({ status: 413, message: 'The body of your request was too large for this server.' });
    expect(faultFromError(new CinderException({ code: 503 }))).toEqual({
      status: 503,
      message: 'The server is currently unavailable. Please try again at a later time.',
    });
  });

  it('webob exceptions raised by controllers keep status and explanation', () => {
    expect(faultFromError(new HttpFault(500, 'Unable to fetch connection information from backend.'))).toEqual({
      status: 500,
      message: 'Unable to fetch connection information from backend.',
    });
    expect(faultFromError(new HttpFault(404))).toEqual({ status: 404, message: 'The resource could not be found.' });
    expect(faultFromError(new ValidationFailed('detail'))).toEqual({ status: 400, message: 'detail' });
  });

  it('a Python-TypeError situation is 400 with webob text', () => {
    expect(faultFromError(new PyTypeError('x'))).toEqual({
      status: 400,
      message: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
    });
  });

  it('InvalidInput text', () => {
    expect(faultFromError(new InvalidInput({ reason: "Connector doesn't have required information: initiator" }))).toEqual({
      status: 400,
      message: "Invalid input received: Connector doesn't have required information: initiator",
    });
  });
});
