// oslo.policy's file format and rule language (src/common/policy-file.ts) and their place in
// authorize (src/common/policy.ts): a rule of policy.yaml replaces the default of the same name.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { makeContext, type RequestContext } from '../../src/common/context.js';
import { configurePolicyFile, findPolicyFile, parsePolicyFile, parseRule, resetPolicyFile, tokenize } from '../../src/common/policy-file.js';
import { authorize, isAllowed, resolveRule } from '../../src/common/policy.js';
import { PolicyNotAuthorized } from '../../src/common/exceptions.js';
import { capturingLogger } from '../support/lvm-manager.js';
import { parseConfig } from '../../src/common/config.js';

const P1 = 'p1';
const member = makeContext({ user_id: 'u1', project_id: P1, roles: ['member', 'reader'] });
const reader = makeContext({ user_id: 'u2', project_id: P1, roles: ['Reader'] });
const admin = makeContext({ user_id: 'a', project_id: 'adm', roles: ['admin'] });
const other = makeContext({ user_id: 'u3', project_id: 'p2', roles: ['member'] });

const silent = pino({ level: 'silent' });
const check = (rule: string, ctx: RequestContext, target: Record<string, unknown> = { project_id: P1, user_id: 'u1' }) =>
  parseRule(rule)(ctx, target, resolveRule);

afterEach(() => resetPolicyFile());

describe('rule language (oslo_policy/_parser.py, _checks.py)', () => {
  it('@, ! and the empty string', () => {
    expect(check('@', other)).toBe(true);
    expect(check('!', admin)).toBe(false);
    expect(check('', other)).toBe(true);
  });

  it('role: is case-insensitive; project_id/user_id interpolate the target', () => {
    expect(check('role:reader', reader)).toBe(true);
    expect(check('role:ADMIN', admin)).toBe(true);
    expect(check('project_id:%(project_id)s', member)).toBe(true);
    expect(check('project_id:%(project_id)s', other)).toBe(false);
    expect(check('user_id:%(user_id)s', member)).toBe(true);
    // A key missing from the target fails the check.
    expect(check('project_id:%(nope)s', member)).toBe(false);
  });

  it('is_admin:True and literal kinds', () => {
    expect(check('is_admin:True', admin)).toBe(true);
    expect(check('is_admin:True', member)).toBe(false);
    expect(check('is_admin_project:True', member)).toBe(true);
    expect(check("'p1':%(project_id)s", other)).toBe(true);
    expect(check('True:%(flag)s', other, { flag: true })).toBe(true);
  });

  it('and binds tighter than or; not; parentheses', () => {
    expect(check('role:admin or role:member and project_id:%(project_id)s', other)).toBe(false);
    expect(check('role:admin or role:member and project_id:%(project_id)s', member)).toBe(true);
    expect(check('(role:admin or role:member) and project_id:%(project_id)s', admin)).toBe(false);
    expect(check('not role:admin', member)).toBe(true);
    expect(check('not (role:admin or role:member)', member)).toBe(false);
    expect(check('((role:member))', member)).toBe(true);
    expect(tokenize('(a:b or (c:d))').map((t) => t.t)).toEqual(['(', 'check', 'or', '(', 'check', ')', ')']);
  });

  it("rule: resolves Cinder's base rules and the port's rules; an unknown rule fails closed", () => {
    expect(check('rule:admin_api', admin)).toBe(true);
    expect(check('rule:admin_api', member)).toBe(false);
    expect(check('rule:admin_or_owner', member)).toBe(true);
    expect(check('rule:admin_or_owner', other)).toBe(false);
    expect(check('rule:xena_system_admin_or_project_member', member)).toBe(true);
    expect(check('rule:xena_system_admin_or_project_reader', reader)).toBe(true);
    expect(check('rule:context_is_admin', admin)).toBe(true);
    expect(check('rule:system_or_domain_or_project_admin', makeContext({ user_id: 'x', project_id: P1, roles: ['admin'] }))).toBe(true);
    expect(check('rule:volume:get', member)).toBe(true);
    expect(check('rule:no_such_rule', admin)).toBe(false);
  });

  it('syntax errors throw (the file loader turns them into a denying rule)', () => {
    for (const bad of ['role:admin or', 'and role:admin', '(role:admin', 'role:admin)', 'admin', '"quoted"', 'role:a role:b']) {
      expect(() => parseRule(bad), bad).toThrow(/Failed to understand rule/);
    }
  });
});

describe('policy file (parse_file_contents, find_file)', () => {
  it('YAML or JSON, a mapping of names to check strings; empty is {}', () => {
    expect(parsePolicyFile('"volume:get": "rule:admin_api"\n# comment\nx: ""\n')).toEqual({ 'volume:get': 'rule:admin_api', x: '' });
    expect(parsePolicyFile('{"a": "@"}')).toEqual({ a: '@' });
    expect(parsePolicyFile('')).toEqual({});
    expect(() => parsePolicyFile('- a\n- b\n')).toThrow();
  });

  it('is looked up beside the config file, and an absolute path is taken as is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
    fs.writeFileSync(path.join(dir, 'policy.yaml'), '{}');
    expect(findPolicyFile('policy.yaml', [path.join(dir, 'cinder.conf')])).toBe(path.join(dir, 'policy.yaml'));
    expect(findPolicyFile(path.join(dir, 'policy.yaml'), [])).toBe(path.join(dir, 'policy.yaml'));
    expect(findPolicyFile('nope-policy.yaml', [path.join(dir, 'cinder.conf')])).toBeNull();
  });

  it('[oslo_policy] policy_file defaults to policy.yaml', () => {
    expect(parseConfig('[DEFAULT]\n').oslo_policy.policy_file).toBe('policy.yaml');
    expect(parseConfig('[oslo_policy]\npolicy_file = /etc/x/p.json\n').oslo_policy.policy_file).toBe('/etc/x/p.json');
  });
});

describe('authorize with a policy file', () => {
  const DETACH = 'volume_extension:volume_actions:detach';

  function withFile(text: string, logger = silent) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, text);
    expect(configurePolicyFile('policy.yaml', [path.join(dir, 'cinder.conf')], logger)).toBe(file);
    return file;
  }

  it('a rule of the file replaces the default of that name; others keep theirs', () => {
    expect(isAllowed(member, DETACH)).toBe(true);
    withFile(`"${DETACH}": "rule:admin_api"\n"some:unknown:rule": "@"\n`);
    expect(isAllowed(member, DETACH)).toBe(false);
    expect(isAllowed(admin, DETACH)).toBe(true);
    expect(() => authorize(member, DETACH)).toThrow(PolicyNotAuthorized);
    expect(isAllowed(member, 'volume_extension:volume_actions:attach')).toBe(true);
  });

  it('redefining a base rule changes every default built on it', () => {
    withFile('"admin_api": "role:superuser"\n');
    expect(isAllowed(admin, 'volume_extension:volume_admin_actions:force_detach')).toBe(false);
    expect(isAllowed(makeContext({ user_id: 's', project_id: 'x', roles: ['superuser'] }), 'volume_extension:volume_admin_actions:force_detach')).toBe(true);
  });

  it("context_is_admin of the file decides a new context's is_admin (policy.check_is_admin)", () => {
    withFile('"context_is_admin": "role:cloud_admin"\n');
    expect(makeContext({ user_id: 'c', project_id: 'x', roles: ['cloud_admin'] }).is_admin).toBe(true);
    expect(makeContext({ user_id: 'a', project_id: 'x', roles: ['admin'] }).is_admin).toBe(false);
    // An explicit is_admin (noauth, elevated) stays.
    expect(makeContext({ user_id: 'a', project_id: 'x', roles: [], is_admin: true }).is_admin).toBe(true);
    resetPolicyFile();
    expect(makeContext({ user_id: 'a', project_id: 'x', roles: ['admin'] }).is_admin).toBe(true);
  });

  it('is re-read when its mtime changes', () => {
    const file = withFile(`"${DETACH}": "!"\n`);
    expect(isAllowed(admin, DETACH)).toBe(false);
    fs.writeFileSync(file, `"${DETACH}": "@"\n`);
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(file, t, t);
    expect(isAllowed(other, DETACH)).toBe(true);
  });

  it('a rule that does not parse is logged and denies', () => {
    const lines: Record<string, unknown>[] = [];
    withFile(`"${DETACH}": "role:admin or"\n`, capturingLogger(lines));
    expect(isAllowed(admin, DETACH)).toBe(false);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('Failed to understand rule role:admin or'))).toBe(true);
  });

  it('a file that is not YAML keeps the rules in force and logs the error', () => {
    const lines: Record<string, unknown>[] = [];
    withFile('"a": [unclosed\n', capturingLogger(lines));
    expect(isAllowed(member, DETACH)).toBe(true);
    expect(lines.some((l) => l.level === 50 && String(l.msg).startsWith('Failed to load policy file'))).toBe(true);
  });
});
