// The volume list's filter processing (src/volume-api/volume-filters.ts) as Cinder's controller
// and check_volume_filters leave the dict (cinder/api/v3/volumes.py, cinder/api/common.py).
import { describe, expect, it } from 'vitest';
import {
  checkVolumeFilters,
  handleTimeComparisonFilters,
  parseIsoTime,
  processVolumeFiltering,
} from '../../src/volume-api/volume-filters.js';

const run = (isAdmin: boolean, version: number, f: Record<string, unknown>) => {
  processVolumeFiltering(isAdmin, version, f, Object.keys(f));
  return f;
};

describe('processVolumeFiltering', () => {
  it('before 3.31 a non-admin’s unknown keys are dropped, and later filters too', () => {
    expect(run(false, 3000, { name: 'a', all_tenants: '1', project_id: 'x', group_id: 'g' })).toEqual({ name: 'a' });
    expect(run(true, 3000, { all_tenants: '1', project_id: 'x', group_id: 'g' })).toEqual({ all_tenants: '1', project_id: 'x' });
  });
  it('from 3.31 a non-admin’s unknown keys are a 400, all_tenants silently dropped', () => {
    expect(() => run(false, 3031, { project_id: 'x', foo: '1' })).toThrow('Invalid filters project_id,foo are found in query options.');
    expect(run(false, 3031, { all_tenants: '1', status: 'available' })).toEqual({ status: 'available' });
    expect(() => run(false, 3031, { 'name~': 'a' })).toThrow('Invalid filters name~ are found');
    expect(run(true, 3034, { 'name~': 'a', consumes_quota: 'true' })).toEqual({ 'display_name~': 'a', use_quota: 'true' });
  });
  it('non-ASCII keys are a 400 for everyone', () => {
    expect(() => run(true, 3031, { 'nämé': 'a' })).toThrow('Filter keys can only contain ASCII characters.');
  });
});

describe('checkVolumeFilters', () => {
  it('booleans strict from 3.2, literal_eval for the rest, display_name as typed', () => {
    const f: Record<string, unknown> = { bootable: 'TRUE', size: '1', display_name: '"x"', metadata: "{'k': 'v'}", status: 'available' };
    checkVolumeFilters(f, 3002);
    expect(f).toEqual({ bootable: true, size: 1, display_name: '"x"', metadata: { k: 'v' }, status: 'available' });
    expect(() => checkVolumeFilters({ bootable: 'maybe' }, 3002)).toThrow("Invalid input received: 'bootable = maybe'");
    const old: Record<string, unknown> = { bootable: 'maybe' };
    checkVolumeFilters(old, 3000);
    expect(old.bootable).toBe(true);
  });
});

describe('time comparison filters', () => {
  it('op:time pairs, Cinder’s 400 texts', () => {
    const f: Record<string, unknown> = { created_at: 'gt:2020-01-02T03:04:05Z,lte:2020-01-03T00:00:00+01:00' };
    handleTimeComparisonFilters(f);
    expect(f.created_at).toEqual({ gt: new Date('2020-01-02T03:04:05Z'), lte: new Date('2020-01-02T23:00:00Z') });
    expect(() => handleTimeComparisonFilters({ updated_at: 'bad:2020-01-01' })).toThrow('Invalid bad operator');
    expect(() => handleTimeComparisonFilters({ updated_at: 'gt:2020-13-01' })).toThrow('Invalid 2020-13-01 value');
    expect(parseIsoTime('2020-01-01')).toEqual(new Date('2020-01-01T00:00:00Z'));
  });
});
