// pyJsonDumps against what CPython's json.dumps printed for the same values (ensure_ascii, ', '
// and ': ' separators): the text Cinder stores in volume_attachment.connector/connection_info.
import { describe, expect, it } from 'vitest';
import { pyJsonDumps } from '../../src/common/pyjson.js';

describe('pyJsonDumps (json.dumps with Python defaults)', () => {
  it('matches CPython for a connector-like dict', () => {
    const v = { initiator: 'iqn.1994-05.com.redhat:c1', host: 'c1', ip: '192.0.2.1', multipath: false, x: null, n: 3, f: 0.5, u: 'hé"\\\n', l: [1, 'a', {}] };
    // python3 -c 'import json; print(json.dumps({...}))'
    expect(pyJsonDumps(v)).toBe(
      '{"initiator": "iqn.1994-05.com.redhat:c1", "host": "c1", "ip": "192.0.2.1", "multipath": false, "x": null, "n": 3, "f": 0.5, "u": "h\\u00e9\\"\\\\\\n", "l": [1, "a", {}]}',
    );
  });

  it('floats as repr, non-finite numbers as Python spells them, empty containers', () => {
    expect(pyJsonDumps([0.1, 1e-5, 1.5e300, NaN, Infinity, -Infinity])).toBe('[0.1, 1e-05, 1.5e+300, NaN, Infinity, -Infinity]');
    expect(pyJsonDumps({})).toBe('{}');
    expect(pyJsonDumps([])).toBe('[]');
    expect(pyJsonDumps('☃')).toBe('"\\u2603"');
  });
});
