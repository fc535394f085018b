// The volume views (GET /volumes/{id}, /volumes/detail, /volumes, POST /volumes answer). The
// volume below is the DB state Cinder 21.3.1 held for an attached volume (one 'attached' and one
// 'reserved' attachment, user and admin metadata); the expected JSON is what Cinder returned for it.
import { describe, expect, it } from 'vitest';
import { makeContext } from '../../src/common/context.js';
import type { Volume } from '../../src/objects/volume.js';
import {
  apiDateTime,
  collectionLinks,
  removeVersionFromHref,
  volumeDetail,
  volumeSummary,
  type ViewRequest,
  type ViewVolume,
} from '../../src/api/views.js';

const VID = '99cbb997-44aa-4495-b265-f0eb419cf777';
const TYPE_ID = '9e351364-d0c9-4fc9-bfad-4931af21028f';

const volume: ViewVolume = {
  id: VID, created_at: '2024-01-02 03:04:05.000000', updated_at: null, deleted_at: null, deleted: false,
  _name_id: null, ec2_id: null, user_id: 'u', project_id: 'abc', snapshot_id: null, cluster_name: 'c1',
  host: 'h@b#p', size: 3, availability_zone: 'nova', status: 'in-use', attach_status: 'attached',
  migration_status: 'success', scheduled_at: null, launched_at: null, terminated_at: null, display_name: 'n1',
  display_description: 'd', provider_location: null, provider_auth: null, provider_geometry: null, provider_id: 'pid',
  volume_type_id: TYPE_ID, source_volid: null, encryption_key_id: null, consistencygroup_id: null, group_id: null,
  bootable: true, multiattach: false, replication_status: null, replication_extended_status: null,
  replication_driver_data: null, previous_status: null, service_uuid: 'svc', shared_targets: true, use_quota: true,
  volume_attachment: [
    {
      id: '9eda1e7c-e6f8-4685-9b12-1f3bb433c3da', created_at: '2026-11-26 05:18:12.458065',
      updated_at: '2026-11-26 05:18:12.468850', deleted_at: null, deleted: false, volume_id: VID,
      attached_host: 'hostx', instance_uuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb',
      attach_time: '2026-11-26 05:18:12.468169', detach_time: null, attach_mode: 'rw', attach_status: 'attached',
      connection_info: null, connector: null,
    },
    {
      id: '65f59e2a-3cf1-47a1-9d34-dda514250e7d', created_at: '2026-11-26 05:18:12.473741', updated_at: null,
      deleted_at: null, deleted: false, volume_id: VID, attached_host: null,
      instance_uuid: '21111111-2222-3333-4444-555555555555', mountpoint: null, attach_time: null, detach_time: null,
      attach_mode: null, attach_status: 'reserved', connection_info: null, connector: null,
    },
  ],
  admin_metadata: { readonly: 'False', attached_mode: 'rw', other: 'zz' },
  metadata: { k: 'v', readonly: 'user' },
  volume_type: { id: TYPE_ID, name: '__DEFAULT__' },
};

function req(roles: string[], version: number, url = `http://localhost:8776/v3/abc/volumes/${VID}`): ViewRequest {
  return {
    ctx: makeContext({ user_id: 'u', project_id: 'abc', roles }),
    version,
    applicationUrl: 'http://localhost:8776/v3',
    url,
    query: [],
  };
}

const base = {
  id: VID, status: 'in-use', size: 3, availability_zone: 'nova', created_at: '2024-01-02T03:04:05.000000',
  updated_at: null, name: 'n1', description: 'd', volume_type: '__DEFAULT__', snapshot_id: null, source_volid: null,
  metadata: { k: 'v', readonly: 'False', attached_mode: 'rw' },
  links: [
    { rel: 'self', href: `http://localhost:8776/v3/abc/volumes/${VID}` },
    { rel: 'bookmark', href: `http://localhost:8776/abc/volumes/${VID}` },
  ],
  user_id: 'u', bootable: 'true', encrypted: false, replication_status: null, consistencygroup_id: null,
  multiattach: false,
};
const attachment = (hostName: string | null) => [
  {
    id: VID, attachment_id: '9eda1e7c-e6f8-4685-9b12-1f3bb433c3da', volume_id: VID,
    server_id: '11111111-2222-3333-4444-555555555555', host_name: hostName, device: '/dev/vdb',
    attached_at: '2026-11-26T05:18:12.468169',
  },
];

describe('volumeDetail, as Cinder answered GET /v3/abc/volumes/{id}', () => {
  it('member at 3.0', () => {
    expect(JSON.stringify(volumeDetail(req(['member'], 3000), volume, true))).toBe(
      JSON.stringify({ ...base, attachments: attachment(null), 'os-vol-tenant-attr:tenant_id': 'abc' }),
    );
  });

  it('member at 3.70', () => {
    expect(JSON.stringify(volumeDetail(req(['member'], 3070), volume, true))).toBe(
      JSON.stringify({
        ...base, attachments: attachment(null), group_id: null, shared_targets: true, service_uuid: 'svc',
        volume_type_id: TYPE_ID, consumes_quota: true, 'os-vol-tenant-attr:tenant_id': 'abc',
      }),
    );
  });

  it('admin at 3.0', () => {
    expect(JSON.stringify(volumeDetail(req(['admin'], 3000), volume, true))).toBe(
      JSON.stringify({
        ...base, attachments: attachment('hostx'), migration_status: 'success', 'os-vol-tenant-attr:tenant_id': 'abc',
        'os-vol-mig-status-attr:migstat': 'success', 'os-vol-mig-status-attr:name_id': null, 'os-vol-host-attr:host': 'h@b#p',
      }),
    );
  });

  it('admin at 3.70', () => {
    expect(JSON.stringify(volumeDetail(req(['admin'], 3070), volume, true))).toBe(
      JSON.stringify({
        ...base, attachments: attachment('hostx'), migration_status: 'success', group_id: null, provider_id: 'pid',
        shared_targets: true, service_uuid: 'svc', cluster_name: 'c1', volume_type_id: TYPE_ID, consumes_quota: true,
        'os-vol-tenant-attr:tenant_id': 'abc', 'os-vol-mig-status-attr:migstat': 'success',
        'os-vol-mig-status-attr:name_id': null, 'os-vol-host-attr:host': 'h@b#p',
      }),
    );
  });

  it('the POST /volumes answer has no extension attributes', () => {
    const v = volumeDetail(req(['admin'], 3000), volume, false);
    expect(Object.keys(v).filter((k) => k.startsWith('os-vol'))).toEqual([]);
    expect(v.migration_status).toBe('success');
  });

  it('links drop the project when the URL had none', () => {
    const v = volumeDetail(req(['member'], 3000, `http://localhost:8776/v3/volumes/${VID}`), volume, true);
    expect(v.links).toEqual([
      { rel: 'self', href: `http://localhost:8776/v3/volumes/${VID}` },
      { rel: 'bookmark', href: `http://localhost:8776/volumes/${VID}` },
    ]);
  });

  it('maps managing statuses, NULL bootable, shared_targets NULL before/after 3.69, encryption key', () => {
    const v: ViewVolume = { ...volume, status: 'error_managing', bootable: null as unknown as boolean, shared_targets: null as unknown as boolean, encryption_key_id: 'k1' };
    const at48 = volumeDetail(req(['member'], 3048), v, true);
    expect(at48.status).toBe('error');
    expect(at48.bootable).toBe('none');
    expect(at48.shared_targets).toBe(true);
    expect(at48.encrypted).toBe(true);
    expect(at48.encryption_key_id).toBeUndefined();
    const at69 = volumeDetail(req(['member'], 3069), v, true);
    expect(at69.shared_targets).toBeNull();
    expect(at69.encryption_key_id).toBe('k1');
    const fixed = volumeDetail(req(['member'], 3070), { ...v, encryption_key_id: '00000000-0000-0000-0000-000000000000' }, true);
    expect(fixed.encryption_key_id).toBeUndefined();
  });

  it('shows no admin metadata keys other than readonly/attached_mode, and only when present', () => {
    const detached: Volume = { ...volume, admin_metadata: { readonly: 'False' }, metadata: {}, volume_attachment: [] };
    const v = volumeDetail(req(['member'], 3000), detached, true);
    expect(v.metadata).toEqual({ readonly: 'False' });
    expect(v.attachments).toEqual([]);
  });

  it('shows volume_type_id when no type name was loaded', () => {
    const { volume_type: _t, ...noType } = volume;
    expect(volumeDetail(req(['member'], 3000), noType as Volume, true).volume_type).toBe(TYPE_ID);
  });
});

describe('lists', () => {
  it('summary is id, name, links', () => {
    expect(volumeSummary(req(['member'], 3000), volume)).toEqual({ id: VID, name: 'n1', links: base.links });
  });

  it('next link when the page is full, with the query kept and marker last', () => {
    const r = { ...req(['member'], 3000, 'http://localhost:8776/v3/abc/volumes/detail?limit=1&x=a+b'), query: [['limit', '1'], ['x', 'a b'], ['marker', 'old']] as [string, string][] };
    expect(collectionLinks(r, [volume], 'volumes/detail', 1)).toEqual([
      { rel: 'next', href: `http://localhost:8776/v3/abc/volumes/detail?limit=1&x=a+b&marker=${VID}` },
    ]);
    expect(collectionLinks(r, [volume], 'volumes/detail', 2)).toEqual([]);
    expect(collectionLinks(r, [], 'volumes', 0)).toEqual([]);
  });
});

describe('formatting helpers', () => {
  it('apiDateTime writes %Y-%m-%dT%H:%M:%S.%f', () => {
    expect(apiDateTime('2024-01-02 03:04:05.000120')).toBe('2024-01-02T03:04:05.000120');
    expect(apiDateTime('2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05.000000');
    expect(apiDateTime('2024-01-02T03:04:05Z')).toBe('2024-01-02T03:04:05.000000');
    expect(apiDateTime('2024-01-02T03:04:05.5+00:00')).toBe('2024-01-02T03:04:05.500000');
    expect(apiDateTime(null)).toBeNull();
  });

  it('removeVersionFromHref drops the first version segment', () => {
    expect(removeVersionFromHref('http://h:8776/v3')).toBe('http://h:8776');
    expect(removeVersionFromHref('http://h/volume/v3')).toBe('http://h/volume');
    expect(removeVersionFromHref('http://h/v1.1/123')).toBe('http://h/123');
  });
});
