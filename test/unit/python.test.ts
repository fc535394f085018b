// The Python semantics behind Cinder's 400 texts: repr()/str() of JSON values, float repr,
// json.loads' view of numbers and key order, oslo's is_uuid_like. Expected strings are what
// CPython 3.11 prints for the same values.
import { describe, expect, it } from 'vitest';
import { isUuidLike } from '../../src/common/uuid.js';
import {
  PyFloat,
  pyCompareStr,
  pyJsonString,
  pyLen,
  pyParse,
  pyRepr,
  pyReprFloat,
  pyStr,
  pyStrip,
} from '../../src/common/python.js';

describe('pyRepr of str', () => {
  it.each([
    ['x', "'x'"],
    ["it's", `"it's"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ['h\u00e9\n\t\r\u0001\u00a0\u200b\u{1F600}\\\u007f\u0085', "'h\u00e9\\n\\t\\r\\x01\\xa0\\u200b\u{1F600}\\\\\\x7f\\x85'"],
    ['\ud800', "'\\ud800'"],
    ['\u0000', "'\\x00'"],
    ['\u00ad', "'\\xad'"],
    ['\u2028', "'\\u2028'"],
    ['\u3000', "'\\u3000'"],
    [' ', "' '"],
    ['\u00ff\u0100', "'\u00ff\u0100'"],
    ['\ue000', "'\\ue000'"],
    ['\ufeff', "'\\ufeff'"],
    ['\u{e0001}', "'\\U000e0001'"],
    ['\u{10ffff}', "'\\U0010ffff'"],
    ['\u0378', "'\\u0378'"],
    ['', "''"],
  ])('%j -> %s', (s, expected) => {
    expect(pyRepr(s)).toBe(expected);
  });
});

describe('pyReprFloat', () => {
  it.each([
    [1.0, '1.0'],
    [0.1, '0.1'],
    [1e22, '1e+22'],
    [1e21, '1e+21'],
    [1e-5, '1e-05'],
    [123.456, '123.456'],
    [2.5e-300, '2.5e-300'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [100.0, '100.0'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [9999999999999998.0, '9999999999999998.0'],
    [0.00001234, '1.234e-05'],
    [0.0001, '0.0001'],
    [1234567890123456789.0, '1.2345678901234568e+18'],
    [-0.0, '-0.0'],
    [-1.5, '-1.5'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('%s -> %s', (x, expected) => {
    expect(pyReprFloat(x)).toBe(expected);
  });
});

describe('pyRepr / pyStr of containers and scalars', () => {
  it('formats like Python', () => {
    expect(pyRepr(null)).toBe('None');
    expect(pyRepr(true)).toBe('True');
    expect(pyRepr(false)).toBe('False');
    expect(pyRepr(5)).toBe('5');
    expect(pyRepr(12345678901234567890n)).toBe('12345678901234567890');
    expect(pyRepr(new PyFloat(1))).toBe('1.0');
    expect(pyRepr({ foo: 1 })).toBe("{'foo': 1}");
    expect(pyRepr({})).toBe('{}');
    expect(pyRepr([1, 'a', null, true, [], {}])).toBe("[1, 'a', None, True, [], {}]");
    expect(pyRepr({ a: [1, true, null, 'x', false, {}] })).toBe("{'a': [1, True, None, 'x', False, {}]}");
    expect(pyRepr(new Map([['b', 1], ['1', 2]]))).toBe("{'b': 1, '1': 2}");
  });

  it('str() leaves a str bare and reprs the rest (the "Value: ..." part)', () => {
    expect(pyStr('bogus')).toBe('bogus');
    expect(pyStr("it's")).toBe("it's");
    expect(pyStr({ foo: 1 })).toBe("{'foo': 1}");
    expect(pyStr(null)).toBe('None');
    expect(pyStr(true)).toBe('True');
    expect(pyStr(new PyFloat(1.5e-7))).toBe('1.5e-07');
  });
});

describe('pyParse (json.loads)', () => {
  it('keeps floats as floats, big ints exact, key order as written', () => {
    const v = pyParse('{"b": 1.0, "1": 12345678901234567890, "a": [1e2, -0, 3]}') as Map<string, unknown>;
    expect([...v.keys()]).toEqual(['b', '1', 'a']);
    expect(pyRepr(v)).toBe("{'b': 1.0, '1': 12345678901234567890, 'a': [100.0, 0, 3]}");
  });

  it('accepts NaN and Infinity, rejects what Python rejects', () => {
    expect(pyRepr(pyParse('[NaN, Infinity, -Infinity]'))).toBe('[nan, inf, -inf]');
    for (const bad of ['', '{', '{"a" 1}', "{'a': 1}", '[1,]', '01', '"\u0001"', '{"a": 1} x', 'nul']) {
      expect(() => pyParse(bad), bad).toThrow();
    }
  });

  it('keeps the first position of a duplicate key and the last value', () => {
    expect(pyRepr(pyParse('{"a": 1, "b": 2, "a": 3}'))).toBe("{'a': 3, 'b': 2}");
  });

  it('decodes escapes, including lone surrogates', () => {
    expect(pyParse('"\\u00e9\\n\\ud800\\/"')).toBe('\u00e9\n\ud800/');
  });
});

describe('helpers', () => {
  it('pyLen counts code points', () => {
    expect(pyLen('abc')).toBe(3);
    expect(pyLen('\u{1F600}x')).toBe(2);
    expect(pyLen('\ud800')).toBe(1);
  });

  it('pyCompareStr sorts by code point', () => {
    expect(['b', '1', 'a'].sort(pyCompareStr)).toEqual(['1', 'a', 'b']);
    expect(['\uffff', '\u{10000}'].sort(pyCompareStr)).toEqual(['\uffff', '\u{10000}']);
  });

  it('pyStrip strips Python whitespace only', () => {
    expect(pyStrip(' \t\n\x1c\u3000a b\u00a0 ')).toBe('a b');
    expect(pyStrip('\u200ba\ufeff')).toBe('\u200ba\ufeff');
  });

  it('pyJsonString escapes like json.dumps (ensure_ascii)', () => {
    expect(pyJsonString('plain')).toBe('"plain"');
    expect(pyJsonString('a"b\\c\n\u00e9\u007f\u{1F600}')).toBe('"a\\"b\\\\c\\n\\u00e9\\u007f\\ud83d\\ude00"');
  });
});

describe('isUuidLike (oslo_utils.uuidutils.is_uuid_like)', () => {
  it.each([
    ['4b1e8f6c-1111-2222-3333-444455556666', true],
    ['4B1E8F6C-1111-2222-3333-444455556666', true],
    ['4b1e8f6c111122223333444455556666', true],
    ['{4b1e8f6c-1111-2222-3333-444455556666}', true],
    ['urn:uuid:4b1e8f6c-1111-2222-3333-444455556666', true],
    ['uuid:4b1e8f6c-1111-2222-3333-444455556666', true],
    ['urn:4b1e8f6c-1111-2222-3333-444455556666', true],
    ['URN:4b1e8f6c-1111-2222-3333-444455556666', false],
    ['{{4b1e8f6c-1111-2222-3333-444455556666}', true],
    ['4b1e8f6c-1111-{2222}-3333-444455556666', false],
    ['4b1e-8f6c-1111-2222-3333-444455556666', true],
    ['4b1e8f6c-1111-2222-3333-44445555666', false],
    ['4b1e8f6c-1111-2222-3333-4444555566667', false],
    ['g b1e8f6c-1111-2222-3333-44445555666', false],
    ['', false],
    [5, false],
    [null, false],
  ])('%j -> %s', (v, expected) => {
    expect(isUuidLike(v)).toBe(expected);
  });
});
