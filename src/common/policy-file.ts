// oslo.policy's policy file and rule language, for the rules a cloud overrides in policy.yaml.
//  - The file (oslo_policy/policy.py parse_file_contents): JSON or YAML, a mapping of rule name to
//    check string; it is re-read when its mtime changes (Enforcer.load_rules / read_cached_file).
//  - The language (oslo_policy/_parser.py, _checks.py): `@` (always), `!` (never), `rule:<name>`,
//    `role:<role>` (case-insensitive), generic `<field>:<match>` against the credentials (a dotted
//    path; a literal kind such as True or 'x' compares with the match), matches interpolated with
//    the target (`%(project_id)s`; a missing key fails the check), `not`, `and`, `or` (and binds
//    tighter), parentheses. An empty check string allows; one that does not parse is logged and
//    denies, as _parse_text_rule's FalseCheck.
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RequestContext } from './context.js';
import type { Logger } from './log.js';

export type Target = Record<string, unknown>;
/** A parsed check string: (context, target, rule resolver) → allowed. */
export type ParsedCheck = (ctx: RequestContext, target: Target, resolve: (name: string) => ResolvedRule | undefined) => boolean;
/** What `rule:<name>` finds: a parsed override or a default predicate. */
export type ResolvedRule = (ctx: RequestContext, target: Target) => boolean;

/** RequestContext.to_policy_values() of Cinder (oslo.context's keys plus is_admin). */
export function policyCreds(ctx: RequestContext): Record<string, unknown> {
  return {
    user_id: ctx.user_id,
    user_domain_id: ctx.user_domain,
    system_scope: null,
    domain_id: null,
    project_id: ctx.project_id,
    project_domain_id: ctx.project_domain,
    roles: ctx.roles,
    is_admin_project: ctx.is_admin_project,
    service_user_id: null,
    service_user_domain_id: null,
    service_project_id: null,
    service_project_domain_id: null,
    service_roles: ctx.service_roles,
    is_admin: ctx.is_admin,
  };
}

/** Python's str() of a JSON-ish value, for the comparisons GenericCheck makes. */
function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

/** `match % target`: every `%(key)s` replaced by str(target[key]); a missing key → null (fail). */
function interpolate(match: string, target: Target): string | null {
  let missing = false;
  const out = match.replace(/%\(([^)]*)\)s/g, (_m, key: string) => {
    if (!(key in target)) {
      missing = true;
      return '';
    }
    return pyStr(target[key]);
  });
  return missing ? null : out.replace(/%%/g, '%');
}

/** ast.literal_eval of a GenericCheck kind: True/False/None, numbers, quoted strings; else undefined. */
function literal(kind: string): string | undefined {
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  if (/^-?\d+$/.test(kind)) return String(Number(kind));
  const m = /^(['"])(.*)\1$/.exec(kind);
  return m ? m[2] : undefined;
}

function findInDict(value: unknown, segments: string[], match: string): boolean {
  if (segments.length === 0) return match === pyStr(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !(segments[0] in (value as object))) return false;
  const next = (value as Record<string, unknown>)[segments[0]];
  if (Array.isArray(next)) return next.some((v) => findInDict(v, segments.slice(1), match));
  return findInDict(next, segments.slice(1), match);
}

export class PolicySyntaxError extends Error {}

/** _parse_check: one base check. */
function parseCheck(tok: string): ParsedCheck {
  if (tok === '!') return () => false;
  if (tok === '@') return () => true;
  const colon = tok.indexOf(':');
  if (colon < 0) throw new PolicySyntaxError(`Failed to understand rule ${tok}`);
  const kind = tok.slice(0, colon);
  const match = tok.slice(colon + 1);
  if (kind === 'rule') {
    return (ctx, target, resolve) => {
      const r = resolve(match);
      return r ? r(ctx, target) : false; // RuleCheck: no such rule fails closed
    };
  }
  if (kind === 'role') {
    return (ctx, target) => {
      const m = interpolate(match, target);
      return m !== null && ctx.roles.some((r) => r.toLowerCase() === m.toLowerCase());
    };
  }
  if (kind === 'http' || kind === 'https') throw new PolicySyntaxError(`'${kind}:' checks are not supported: ${tok}`);
  return (ctx, target) => {
    const m = interpolate(match, target);
    if (m === null) return false;
    const lit = literal(kind);
    if (lit !== undefined) return m === lit;
    return findInDict(policyCreds(ctx), kind.split('.'), m);
  };
}

type Tok = { t: '(' | ')' | 'and' | 'or' | 'not' | 'check' | 'string'; v: string };

/** _parse_tokenize: whitespace-separated, leading '(' and trailing ')' split off. */
export function tokenize(rule: string): Tok[] {
  const out: Tok[] = [];
  for (let tok of rule.split(/\s+/)) {
    if (!tok) continue;
    const clean = tok.replace(/^\(+/, '');
    for (let i = 0; i < tok.length - clean.length; i++) out.push({ t: '(', v: '(' });
    if (!clean) continue;
    tok = clean;
    const inner = tok.replace(/\)+$/, '');
    const trail = tok.length - inner.length;
    const lowered = inner.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') out.push({ t: lowered, v: inner });
    else if (inner) {
      if (inner.length >= 2 && ((inner[0] === '"' && inner.at(-1) === '"') || (inner[0] === "'" && inner.at(-1) === "'"))) {
        out.push({ t: 'string', v: inner.slice(1, -1) });
      } else out.push({ t: 'check', v: inner });
    }
    for (let i = 0; i < trail; i++) out.push({ t: ')', v: ')' });
  }
  return out;
}

/** A check string to a predicate; throws PolicySyntaxError where oslo's ParseState fails. */
export function parseRule(rule: string): ParsedCheck {
  if (!rule.trim()) return () => true;
  const toks = tokenize(rule);
  let i = 0;
  const fail = (): never => {
    throw new PolicySyntaxError(`Failed to understand rule ${rule}`);
  };
  const unary = (): ParsedCheck => {
    const tok = toks[i++] ?? fail();
    if (tok.t === 'not') {
      const c = unary();
      return (ctx, t, r) => !c(ctx, t, r);
    }
    if (tok.t === '(') {
      const c = orExpr();
      if (toks[i++]?.t !== ')') fail();
      return c;
    }
    if (tok.t === 'check') return parseCheck(tok.v);
    return fail();
  };
  const andExpr = (): ParsedCheck => {
    const cs = [unary()];
    while (toks[i]?.t === 'and') {
      i++;
      cs.push(unary());
    }
    return cs.length === 1 ? cs[0] : (ctx, t, r) => cs.every((c) => c(ctx, t, r));
  };
  const orExpr = (): ParsedCheck => {
    const cs = [andExpr()];
    while (toks[i]?.t === 'or') {
      i++;
      cs.push(andExpr());
    }
    return cs.length === 1 ? cs[0] : (ctx, t, r) => cs.some((c) => c(ctx, t, r));
  };
  const c = orExpr();
  if (i !== toks.length) fail();
  return c;
}

/** parse_file_contents: JSON first, then YAML; the result must be a mapping (empty file: {}). */
export function parsePolicyFile(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Loaded when a policy file is YAML: every process reads this module, few read YAML (~4 MiB).
    const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    parsed = YAML.parse(text); // throws on a YAML error, as oslo raises ValueError
  }
  if (parsed === null || parsed === undefined || parsed === '') return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('policy file is not a mapping of rule names to check strings');
  return parsed as Record<string, unknown>;
}

/**
 * oslo.config's ConfigOpts.find_file: an absolute path as is; otherwise the directory of each
 * --config-file (last first), then ~/.cinder, ~/, /etc/cinder, /etc. The first that exists.
 */
export function findPolicyFile(name: string, configFiles: string[]): string | null {
  const dirs = [...configFiles].reverse().map((f) => path.dirname(path.resolve(f)));
  dirs.push(path.join(os.homedir(), '.cinder'), os.homedir(), '/etc/cinder', '/etc');
  for (const d of dirs) {
    const p = path.resolve(d, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** The rules of one policy file, re-read when its mtime changes. */
export class PolicyFile {
  private mtimeMs = -1;
  private rules = new Map<string, ParsedCheck>();

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** The file's rules as they are now (re-read when it changed; on a read error the last ones). */
  current(): Map<string, ParsedCheck> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      if (this.mtimeMs !== -2) this.logger.warn({ policy_file: this.file }, 'policy file is gone; the default rules apply');
      this.mtimeMs = -2;
      this.rules = new Map();
      return this.rules;
    }
    if (st.mtimeMs === this.mtimeMs) return this.rules;
    this.mtimeMs = st.mtimeMs;
    try {
      this.rules = this.load(fs.readFileSync(this.file, 'utf8'));
      this.logger.info({ policy_file: this.file, rules: this.rules.size }, 'policy file loaded');
    } catch (err) {
      this.logger.error({ err, policy_file: this.file }, `Failed to load policy file ${this.file}; keeping the rules in force`);
    }
    return this.rules;
  }

  private load(text: string): Map<string, ParsedCheck> {
    const out = new Map<string, ParsedCheck>();
    for (const [name, value] of Object.entries(parsePolicyFile(text))) {
      if (typeof value !== 'string') {
        // oslo's list-of-lists form (pre-2014) is not supported here: the rule denies.
        this.logger.error({ policy_file: this.file, rule: name }, `Failed to understand rule ${name}: not a check string`);
        out.set(name, () => false);
        continue;
      }
      try {
        out.set(name, parseRule(value));
      } catch (err) {
        this.logger.error({ policy_file: this.file, rule: name }, (err as Error).message);
        out.set(name, () => false);
      }
    }
    return out;
  }
}

/**
 * cinder/policies/base.py's named rules (legacy + Xena rule defaults, the ones Cinder 21 registers)
 * as check strings: what `rule:<name>` in a policy file finds when the file does not define it.
 */
export const CINDER_BASE_RULES: Record<string, string> = {
  context_is_admin: 'role:admin',
  admin_api: 'is_admin:True or (role:admin and is_admin_project:True)',
  xena_system_admin_or_project_reader: '(role:admin) or (role:reader and project_id:%(project_id)s)',
  xena_system_admin_or_project_member: '(role:admin) or (role:member and project_id:%(project_id)s)',
  admin_or_owner: 'is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s',
  system_or_domain_or_project_admin:
    '(role:admin and system_scope:all) or (role:admin and domain_id:%(domain_id)s) or (role:admin and project_id:%(project_id)s)',
};

let active: PolicyFile | null = null;

/**
 * Enforcer set-up at a process's start: [oslo_policy] policy_file looked up beside the
 * --config-file(s) and in the standard directories; none found is fine (the defaults apply).
 */
export function configurePolicyFile(policyFileName: string, configFiles: string[], logger: Logger): string | null {
  const found = findPolicyFile(policyFileName, configFiles);
  active = found ? new PolicyFile(found, logger) : null;
  if (active) active.current();
  else logger.debug({ policy_file: policyFileName }, 'no policy file found; the default rules apply');
  return found;
}

/** Tests: forget the file. */
export function resetPolicyFile(): void {
  active = null;
}

let resolver: (name: string) => ResolvedRule | undefined = () => undefined;

/** policy.ts registers how `rule:<name>` is resolved (kept here so context.ts needs no policy.ts). */
export function setRuleResolver(r: (name: string) => ResolvedRule | undefined): void {
  resolver = r;
}

/**
 * policy.check_is_admin for a context being built (RequestContext.__init__ with is_admin None):
 * the file's context_is_admin with the context's own policy values as the target; undefined when
 * the file does not define it (the caller applies the default, role:admin).
 */
export function fileContextIsAdmin(ctx: RequestContext): boolean | undefined {
  const o = fileRule('context_is_admin');
  if (!o) return undefined;
  return o(ctx, { ...policyCreds(ctx), is_admin: null }, resolver);
}

/** The file's check for `name`, if the active policy file defines it. */
export function fileRule(name: string): ParsedCheck | undefined {
  return active?.current().get(name);
}
