// After cinder/tests/unit/scheduler/test_host_filters.py ExtraSpecsOpsTestCase and the
// CapabilitiesFilter cases of BasicFiltersTestCase, plus test_host_manager's _equal_after_convert table.
import { describe, expect, it } from 'vitest';
import { equalAfterConvert, match } from '../../../src/scheduler/extra-specs-ops.js';
import { CapabilitiesFilter } from '../../../src/scheduler/filters.js';
import { fakeBackend } from './fakes.js';

describe('extra_specs_ops.match', () => {
  it.each([
    // bogus operator: plain comparison
    ['4', '> 2', false],
    // simple
    ['1', '1', true], ['', '1', false], ['3', '1', false], ['222', '2', false],
    // '=' means at least
    ['123', '= 123', true], ['124', '= 123', true], ['34', '= 234', false], ['34', '=', false],
    ['2', '<= 10', true], ['3', '<= 2', false], ['3', '>= 1', true], ['2', '>= 3', false],
    ['123', 's== 123', true], ['1234', 's== 123', false], ['1234', 's!= 123', true], ['123', 's!= 123', false],
    ['1000', 's>= 234', false], ['1234', 's<= 1000', false], ['2', 's< 12', false], ['12', 's> 2', false],
    ['12311321', '<in> 11', true], ['12311321', '<in> 12311321', true], ['12311321', '<in> 12311321 <in>', true],
    ['12310321', '<in> 11', false], ['12310321', '<in> 11 <in>', false],
    [true, '<is> True', true], [false, '<is> False', true], [false, '<is> Nonsense', true],
    [true, '<is> False', false], [false, '<is> True', false],
    ['12', '<or> 11 <or> 12', true], ['12', '<or> 11 <or> 12 <or>', true],
    ['13', '<or> 11 <or> 12', false], ['13', '<or> 11 <or> 12 <or>', false],
    [null, null, true], ['foo', null, false],
  ] as Array<[unknown, string | null, boolean]>)('match(%j, %j) is %s', (value, req, expected) => {
    expect(match(value, req)).toBe(expected);
  });

  it('numeric operators work on numbers and reject what float() rejects', () => {
    expect(match(10, '>= 2')).toBe(true);
    expect(match(1.5, '== 1.5')).toBe(true);
    expect(match('abc', '>= 1')).toBe(false);
    expect(match(null, '>= 1')).toBe(false);
    expect(match(' 1_000 ', '>= 999')).toBe(true);
  });

  it('<in> looks into lists and dict keys; a plain req never equals a non-str value', () => {
    expect(match(['a', 'b'], '<in> b')).toBe(true);
    expect(match({ x: 1 }, '<in> x')).toBe(true);
    expect(match(true, 'True')).toBe(false);
    expect(match(1, '1')).toBe(false);
  });

  it("'<all-in>' is not an operator in Cinder 21.3.1: a plain comparison", () => {
    expect(match('a b', '<all-in> a')).toBe(false);
    expect(match('<all-in> a', '<all-in> a')).toBe(true);
  });
});

describe('CapabilitiesFilter', () => {
  const check = (ecaps: Record<string, unknown>, especs: Record<string, string | null>) => {
    const b = fakeBackend('host1', { free_capacity_gb: 1024, capabilities: { enabled: true, ...ecaps }, service: { disabled: false } });
    return new CapabilitiesFilter().backendPasses(b, { resource_type: { name: 'fake_type', extra_specs: especs }, request_spec: { volume_id: 'v' } });
  };

  it.each([
    [{ opt1: '1', opt2: '2' }, { opt1: '1', opt2: '2' }, true],
    [{ opt1: '1', opt2: '2' }, { opt1: '1', opt2: '222' }, false],
    [{ opt1: 10, opt2: 5 }, { opt1: '>= 2', opt2: '<= 8' }, true],
    [{ opt1: 10, opt2: 5 }, { opt1: '>= 2', opt2: '>= 8' }, false],
    [{ opt1: ['1', '2'], opt2: '2' }, { opt1: '1', opt2: '2' }, true],
    [{ opt1: [true, false], opt2: ['1', '2'] }, { opt1: '<is> True', opt2: '<= 8' }, true],
    [{ opt1: [true, false], opt2: ['1', '2'] }, { opt1: '<is> False', opt2: '<= 8' }, true],
    [{ opt1: ['1', '2'], opt2: ['2'] }, { opt1: '3', opt2: '2' }, false],
    [{ opt1: [true, false], opt2: ['1', '2'] }, { opt1: 'fake', opt2: '<= 8' }, false],
    [{ scope_lv1: { opt1: 10 } }, { 'capabilities:scope_lv1:opt1': '>= 2' }, true],
    [{ scope_lv1: { opt1: 10 }, opt2: 5 }, { 'scope_lv1:opt1': '= 2', opt2: '>= 3' }, true],
    [{ scope_lv1: { opt1: 10 } }, { 'capabilities:scope_lv1:opt1': '<= 2' }, false],
    [{ scope_lv0: { scope_lv1: { scope_lv2: { opt1: 10 } } } }, { 'capabilities:scope_lv0:scope_lv1:scope_lv2:opt1': '>= 2' }, true],
    [{ scope_lv0: { scope_lv1: null } }, { 'capabilities:scope_lv0:scope_lv1:scope_lv2:opt1': '>= 2' }, false],
    [{ scope_lv0: { opt1: 10 } }, { 'capabilities:scope_lv1:opt1': '>= 2' }, false],
    [{ scope_lv0: { opt1: null } }, { 'capabilities:scope_lv0:opt1': null }, true],
    [{ scope_lv0: { opt1: 10 } }, { 'capabilities:scope_lv0:opt1': null }, false],
    [{ scope_lv0: { opt1: null } }, { 'capabilities:scope_lv0:opt1': 'foo' }, false],
  ] as Array<[Record<string, unknown>, Record<string, string | null>, boolean]>)('caps %j specs %j -> %s', (ecaps, especs, passes) => {
    expect(check(ecaps, especs)).toBe(passes);
  });

  it('passes without a resource type or extra specs', () => {
    const b = fakeBackend('host1', { capabilities: { opt: 1 } });
    expect(new CapabilitiesFilter().backendPasses(b, {})).toBe(true);
    expect(new CapabilitiesFilter().backendPasses(b, { resource_type: { extra_specs: {} } })).toBe(true);
  });

  it('refuses an attached extend on a backend without online extend support', () => {
    const b = fakeBackend('host2', { capabilities: { online_extend_support: false } });
    const props = (attach_status: string) => ({
      request_spec: { operation: 'extend_volume', volume_properties: { size: 1, attach_status } },
    });
    expect(new CapabilitiesFilter().backendPasses(b, props('attached'))).toBe(false);
    expect(new CapabilitiesFilter().backendPasses(b, props('detached'))).toBe(true);
  });
});

describe('HostManager._equal_after_convert', () => {
  it.each([
    [null, null, true], [null, 'value', false], ['cap', null, false],
    [false, 'True', false], [true, 'True', true], [true, true, true], [false, 'false', true],
    [1.1, '1.1', true], [0, '0', true], [1.1, '1.11', false],
    ['str', 'str', true], ['str1', 'str2', false], ['str', 'StR', false],
    [[], [], true], [['hdd', 'ssd'], ['ssd'], false], [['hdd', 'ssd'], ['ssd', 'hdd'], false],
    [['hdd', 'ssd'], "['hdd', 'ssd']", true],
    [{}, {}, true], [{ a: 'a', b: 'b' }, { b: 'b', a: 'a' }, true], [{ a: 'a', b: 'b' }, { b: 'b' }, false],
    [{ a: 'a' }, "{'a': 'a'}", true],
  ] as Array<[unknown, unknown, boolean]>)('(%j, %j) -> %s', (cap, value, expected) => {
    expect(equalAfterConvert(cap, value)).toBe(expected);
  });
});
