// The closing assertions every reduced chaos test shares: nothing stuck, lost or leaked.
import { expect } from 'vitest';
import type { AuditResult } from './audit.js';

export function expectNothingLeft(a: AuditResult, text: string): void {
  expect(a.stuck, text).toEqual([]);
  expect(a.attachmentsLost, text).toEqual([]);
  expect(a.attachmentsLeaked, text).toEqual([]);
  expect(a.aclsLeaked, text).toEqual([]);
  expect(a.targetsLeaked, text).toEqual([]);
  expect(a.aclsMissing, text).toEqual([]);
}
