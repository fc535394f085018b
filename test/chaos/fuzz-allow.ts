// What the fuzzer (fuzz.ts) may see without it being a port bug: the 5xx causes for which Cinder
// 21.3.1 answers 500 for the same input, and the state a rejected request leaves because Cinder's
// code writes it before it refuses. Each entry names the Cinder file and function that does so
// (paths under /usr/lib/python3/dist-packages/cinder/). Anything not listed here fails fuzz.test.ts.
import type { FiveXXCause, StateChange } from './fuzz.js';

export interface Allowed5xx {
  id: string;
  /** Matched against `${fault} ${apiLog} ${managerLog}` of the cause. */
  match: RegExp;
  cinder: string;
}

export const ALLOWED_5XX: readonly Allowed5xx[] = [
  {
    id: 'version-header-unpack',
    match: /Caught error: cannot unpack OpenStack-API-Version/,
    cinder:
      "api/openstack/wsgi.py Request.set_api_version_request: `service, volume_version = hdr.split()` raises ValueError for a 'volume' part that is not exactly two words ('volume', 'volume 3.44 extra'); Resource.__call__ catches only InvalidAPIVersionString/InvalidGlobalAPIVersion, so api/middleware/fault.py FaultWrapper._error answers 500; the same on the root app (api/versions.py create_resource is a wsgi.Resource, support_api_request_version = True, behind faultwrap in the apiversions pipeline)",
  },
  {
    id: 'schema-without-body',
    match: /Caught error: KeyError: 'body'/,
    cinder:
      "api/validation/__init__.py schema().wrapper reads kwargs['body']; with a body but no (or an empty) Content-Type, wsgi.py Resource.get_body/_process_stack pass no body, so the KeyError (no TypeError, not converted by ResourceExceptionHandler) reaches FaultWrapper: 500 for POST /volumes, POST /attachments, PUT /attachments/{id}",
  },
  {
    id: 'attachment-schema-type-key',
    match: /Caught error: jsonschema: schema 'object' of property 'type' is not a schema/,
    cinder:
      "api/schemas/attachments.py create/update put `'type': 'object'` inside `properties`; api/validation/validators.py _SchemaValidator.validate on a body with a top-level \"type\" key raises AttributeError(\"'str' object has no attribute 'get'\") (checked with Debian's python3-cinder), which FaultWrapper answers 500",
  },
  {
    id: 'deletion-guard-no-nova-endpoint',
    match: /EndpointNotFound: Could not find requested endpoint in Service Catalog/,
    cinder:
      'volume/api.py API.attachment_deletion_allowed asks Nova for an attachment with an instance and connection_info; compute/nova.py novaclient → _get_identity_endpoint_from_sc raises keystoneauth1 EndpointNotFound (a noauth context has no service catalog and [nova] token_auth_url is unset), no `code`, so FaultWrapper answers 500 (README, OSSA-2023-003 guard)',
  },
  {
    id: 'terminate-connection-backend',
    match: /Unable to terminate volume connection from backend\..*Terminate volume connection failed/,
    cinder:
      "volume/manager.py VolumeManager.terminate_connection wraps the driver's error (volume/targets/lio.py LioAdm.terminate_connection reads connector['initiator']: KeyError without it, TypeError for a null connector) in VolumeBackendAPIException; api/contrib/volume_actions.py _terminate_connection and api/contrib/admin_actions.py _force_detach turn that into HTTPInternalServerError('Unable to terminate volume connection from backend.')",
  },
  {
    id: 'initialize-connection-backend',
    match: /Unable to fetch connection information from backend\./,
    cinder:
      "volume/manager.py VolumeManager.initialize_connection wraps a driver/export failure in VolumeBackendAPIException; api/contrib/volume_actions.py _initialize_connection answers HTTPInternalServerError('Unable to fetch connection information from backend.')",
  },
  {
    id: 'attachment-create-cinder-exception',
    match: /Unable to create attachment for volume \(/,
    cinder:
      "api/v3/attachments.py AttachmentsController.create turns any CinderException but NotAuthorized/InvalidVolume into HTTPInternalServerError('Unable to create attachment for volume (%s).'); here InvalidInput from volume/manager.py _connection_create (validate_connector: InvalidConnectorException, no 'initiator')",
  },
  {
    id: 'attachment-update-cinder-exception',
    match: /Unable to update attachment\.\(/,
    cinder:
      "api/v3/attachments.py AttachmentsController.update turns any CinderException but NotAuthorized into HTTPInternalServerError('Unable to update attachment.(%s).'); here InvalidInput from volume/manager.py _connection_create (no 'initiator' in the connector)",
  },
  {
    id: 'attachment-update-lock-name',
    match: /"Unable to update the attachment\."/,
    cinder:
      "volume/api.py API.attachment_update is @coordination.synchronized('{f_name}-{attachment_ref.volume_id}-{connector[host]}'); coordination.py synchronized formats the name with inspect.getcallargs, so a connector without 'host' raises KeyError before the call, and api/v3/attachments.py update answers HTTPInternalServerError('Unable to update the attachment.')",
  },
  {
    id: 'detach-null-body',
    match: /Caught error: AttributeError: 'NoneType' object has no attribute 'get'/,
    cinder:
      "api/schemas/volume_actions.py detach allows `\"os-detach\": null` (type ['object', 'null']; with duplicate keys json keeps the last value), then api/contrib/volume_actions.py VolumeActionsController._detach calls body['os-detach'].get('attachment_id', None): AttributeError, which FaultWrapper answers 500",
  },
  {
    id: 'json-recursion-limit',
    match: /RecursionError: maximum recursion depth exceeded/,
    cinder:
      'api/openstack/wsgi.py action_peek_json / JSONDeserializer._from_json catch only ValueError; a body nested deeper than the Python recursion limit raises RecursionError in jsonutils.loads, which FaultWrapper answers 500 (962 containers parse on Cinder 21.3.1, 963 do not)',
  },
];

export function allowed5xx(c: FiveXXCause): Allowed5xx | undefined {
  const text = `${c.fault} ${c.apiLog} ${c.managerLog}`;
  return ALLOWED_5XX.find((a) => a.match.test(text));
}

export interface AllowedChange {
  id: string;
  /** The route label of the rejected request. */
  route: RegExp;
  /** Every changed DB row / stand-in file line must match one of these. */
  lines: RegExp[];
  cinder: string;
}

export const ALLOWED_STATE_CHANGES: readonly AllowedChange[] = [
  {
    id: 'attach-readonly-admin-metadata',
    route: /action os-attach$/,
    lines: [/^volume_admin_metadata \+\d+ .*"key":"readonly","value":"False"/],
    cinder:
      "volume/api.py API.attach adds admin metadata readonly='False' (update_volume_admin_metadata(update=False)) before the attach_volume RPC, which the manager may refuse (400 'Error attaching volume - InvalidVolume'); nothing removes it",
  },
  {
    id: 'force-detach-after-terminate',
    route: /action os-force_detach$/,
    lines: [/^standin ~targets\//, /^volumes ~\S+ (updated_at: "[^"]*"→"[^"]*", )?status: "attaching"→"(available|in-use)"$/],
    cinder:
      'api/contrib/admin_actions.py VolumeAdminController._force_detach calls volume_api.terminate_connection (the LIO ACL is deleted, then volume/api.py unreserve_volume) before volume_api.detach, whose refusal (409 ConflictNovaUsingAttachment from attachment_deletion_allowed, 400 VolumeAttachmentNotFound/InvalidVolume, 500) does not undo it',
  },
  {
    id: 'attachment-create-reservation-kept',
    route: /^POST(\*)? \/v3(\/\{p\})?\/attachments$/,
    lines: [/^volumes ~\S+ (updated_at: "[^"]*"→"[^"]*", )?status: "\S+"→"reserved"$/, /^volume_attachment \+\S+ .*"attach_status":"reserved"/],
    cinder:
      'volume/api.py API.attachment_create writes the reservation (_attachment_reserve: volume reserved, attachment row reserved) before the attachment_update RPC and does not roll it back when the RPC fails (500 from api/v3/attachments.py create)',
  },
];

export function allowedChange(c: StateChange): AllowedChange | undefined {
  const lines = [...c.db, ...c.lio];
  return ALLOWED_STATE_CHANGES.find((a) => a.route.test(c.route) && lines.length > 0 && lines.every((l) => a.lines.some((re) => re.test(l))));
}
