// Cinder's default policy (cinder/policies/*.py) as oslo.policy evaluates it with
// enforce_new_defaults=False and enforce_scope=False: each rule's new default is OR'ed with its
// deprecated check string. Rules are written once here as small predicates over (context, target).
import type { RequestContext } from './context.js';
import { PolicyNotAuthorized } from './exceptions.js';
import { CINDER_BASE_RULES, fileRule, parseRule, setRuleResolver, type ParsedCheck, type ResolvedRule, type Target } from './policy-file.js';

export interface PolicyTarget {
  project_id?: string | null;
  user_id?: string | null;
}

type Check = (ctx: RequestContext, target: PolicyTarget) => boolean;

/** A base rule a policy file may redefine by name (oslo resolves `rule:<name>` at every check). */
const overridable =
  (name: string, fallback: Check): Check =>
  (ctx, t) => {
    const o = fileRule(name);
    return o ? o(ctx, t as Target, resolveRule) : fallback(ctx, t);
  };

const hasRole = (ctx: RequestContext, role: string) => ctx.roles.some((r) => r.toLowerCase() === role);
const ownsTarget = (ctx: RequestContext, t: PolicyTarget) =>
  ctx.project_id !== null && ctx.project_id !== undefined && ctx.project_id === t.project_id;

/** admin_api = is_admin:True or (role:admin and is_admin_project:True) */
const adminApi: Check = overridable('admin_api', (ctx) => ctx.is_admin || (hasRole(ctx, 'admin') && ctx.is_admin_project));
/** admin_or_owner = admin_api or project_id:%(project_id)s */
const adminOrOwner: Check = overridable('admin_or_owner', (ctx, t) => adminApi(ctx, t) || ownsTarget(ctx, t));
/** xena_system_admin_or_project_member = role:admin or (role:member and project_id:%(project_id)s) */
const systemAdminOrProjectMember: Check = overridable(
  'xena_system_admin_or_project_member',
  (ctx, t) => hasRole(ctx, 'admin') || (hasRole(ctx, 'member') && ownsTarget(ctx, t)),
);
/** xena_system_admin_or_project_reader = role:admin or (role:reader and project_id:%(project_id)s) */
const systemAdminOrProjectReader: Check = overridable(
  'xena_system_admin_or_project_reader',
  (ctx, t) => hasRole(ctx, 'admin') || (hasRole(ctx, 'reader') && ownsTarget(ctx, t)),
);
const always: Check = () => true;

const or =
  (...checks: Check[]): Check =>
  (ctx, t) =>
    checks.some((c) => c(ctx, t));

const memberOrOwner = or(systemAdminOrProjectMember, adminOrOwner);
/** role:admin and project_id:%(project_id)s (the project branch of system_or_domain_or_project_admin) */
const projectAdmin: Check = (ctx, t) => hasRole(ctx, 'admin') && ownsTarget(ctx, t);

export const RULES: Record<string, Check> = {
  'volume_extension:volume_actions:begin_detaching': memberOrOwner,
  'volume_extension:volume_actions:roll_detaching': memberOrOwner,
  'volume_extension:volume_actions:terminate_connection': memberOrOwner,
  'volume_extension:volume_actions:detach': memberOrOwner,
  'volume_extension:volume_actions:reserve': memberOrOwner,
  'volume_extension:volume_actions:unreserve': memberOrOwner,
  'volume_extension:volume_actions:initialize_connection': memberOrOwner,
  'volume_extension:volume_actions:attach': memberOrOwner,
  'volume_extension:volume_admin_actions:force_detach': adminApi,
  'volume_extension:volume_admin_actions:reset_status': adminApi,
  'volume_extension:volume_admin_actions:force_delete': adminApi,
  // cinder/policies/scheduler_stats.py and capabilities.py: both admin only.
  'scheduler_extension:scheduler_stats:get_pools': adminApi,
  'volume_extension:capabilities': adminApi,
  'volume:attachment_create': or(systemAdminOrProjectMember, always),
  'volume:attachment_update': memberOrOwner,
  'volume:attachment_delete': memberOrOwner,
  'volume:attachment_complete': memberOrOwner,
  'volume:multiattach_bootable_volume': memberOrOwner,
  // cinder/policies/volume_actions.py RETYPE_POLICY and volumes.py MULTIATTACH_POLICY.
  'volume:retype': memberOrOwner,
  // volume_actions.py EXTEND_POLICY / EXTEND_ATTACHED_POLICY.
  'volume:extend': memberOrOwner,
  'volume:extend_attached_volume': memberOrOwner,
  'volume:multiattach': memberOrOwner,
  'volume:get': or(systemAdminOrProjectReader, adminOrOwner),
  'volume:get_all': or(systemAdminOrProjectReader, adminOrOwner),
  'volume:create': or(systemAdminOrProjectMember, always),
  'volume:delete': memberOrOwner,
  'volume:force_delete': adminApi,
  // cinder/policies/volumes.py UPDATE_POLICY (also os-set_bootable), volume_actions.py
  // UPDATE_READONLY_POLICY, volume_metadata.py: new defaults OR'ed with admin_or_owner.
  'volume:update': memberOrOwner,
  'volume:update_readonly_flag': memberOrOwner,
  'volume:get_volume_metadata': or(systemAdminOrProjectReader, adminOrOwner),
  'volume:create_volume_metadata': memberOrOwner,
  'volume:update_volume_metadata': memberOrOwner,
  'volume:delete_volume_metadata': memberOrOwner,
  'volume_extension:volume_tenant_attribute': or(systemAdminOrProjectReader, adminOrOwner),
  'volume_extension:volume_host_attribute': adminApi,
  'volume_extension:volume_mig_status_attribute': adminApi,
  // cinder/policies/qos_specs.py: every QoS specs rule is admin_api.
  'volume_extension:qos_specs_manage:get_all': adminApi,
  'volume_extension:qos_specs_manage:get': adminApi,
  'volume_extension:qos_specs_manage:create': adminApi,
  'volume_extension:qos_specs_manage:update': adminApi,
  'volume_extension:qos_specs_manage:delete': adminApi,
  // cinder/policies/volume_type.py encryption rules: admin_api, OR'ed with the deprecated
  // 'rule:volume_extension:volume_type_encryption' (itself admin_api).
  'volume_extension:volume_type_encryption': adminApi,
  'volume_extension:volume_type_encryption:create': adminApi,
  'volume_extension:volume_type_encryption:get': adminApi,
  'volume_extension:volume_type_encryption:update': adminApi,
  'volume_extension:volume_type_encryption:delete': adminApi,
  // cinder/policies/volume_type.py: the new defaults OR'ed with the deprecated rules. The three
  // writes were 'volume_extension:types_manage' (admin_api) before; get/get_all were "" (anyone).
  'volume_extension:types_manage': adminApi,
  'volume_extension:type_create': adminApi,
  'volume_extension:type_update': adminApi,
  'volume_extension:type_delete': adminApi,
  'volume_extension:type_get': or(systemAdminOrProjectReader, always),
  'volume_extension:type_get_all': or(systemAdminOrProjectReader, always),
  'volume_extension:access_types_extra_specs': or(systemAdminOrProjectReader, adminApi),
  'volume_extension:access_types_qos_specs_id': adminApi,
  // cinder/policies/type_extra_specs.py (index/show were "" before).
  'volume_extension:types_extra_specs:index': or(systemAdminOrProjectReader, always),
  'volume_extension:types_extra_specs:show': or(systemAdminOrProjectReader, always),
  'volume_extension:types_extra_specs:create': adminApi,
  'volume_extension:types_extra_specs:update': adminApi,
  'volume_extension:types_extra_specs:delete': adminApi,
  'volume_extension:types_extra_specs:read_sensitive': adminApi,
  // cinder/policies/volume_access.py. get_all_for_type's deprecated check string is the bare
  // 'volume_extension:volume_type_access', a generic check that never matches: admin_api only.
  'volume_extension:volume_type_access': memberOrOwner,
  'volume_extension:volume_type_access:addProjectAccess': adminApi,
  'volume_extension:volume_type_access:removeProjectAccess': adminApi,
  'volume_extension:volume_type_access:get_all_for_type': adminApi,
  // cinder/policies/default_types.py: admin_api OR'ed with system_or_domain_or_project_admin
  // (no system scope nor domain in this port's contexts: role:admin on the target project), and
  // get_all with role:admin and system_scope:all (never here).
  'volume_extension:default_set_or_update': or(adminApi, projectAdmin),
  'volume_extension:default_get': or(adminApi, projectAdmin),
  'volume_extension:default_get_all': adminApi,
  'volume_extension:default_unset': or(adminApi, projectAdmin),
  // cinder/policies/services.py: all admin_api.
  'volume_extension:services:index': adminApi,
  'volume_extension:services:update': adminApi,
  'volume:freeze_host': adminApi,
  'volume:thaw_host': adminApi,
  'volume:failover_host': adminApi,
  // cinder/policies/hosts.py and messages.py.
  'volume_extension:hosts': adminApi,
  'message:get_all': or(systemAdminOrProjectReader, adminOrOwner),
  'message:get': or(systemAdminOrProjectReader, adminOrOwner),
  'message:delete': memberOrOwner,
  // cinder/policies/quotas.py, quota_class.py (each OR'ed with the deprecated
  // 'volume_extension:quota_classes', admin_api) and limits.py.
  'volume_extension:quotas:show': or(systemAdminOrProjectReader, adminOrOwner),
  'volume_extension:quotas:update': adminApi,
  'volume_extension:quotas:delete': adminApi,
  'volume_extension:quota_classes': adminApi,
  'volume_extension:quota_classes:get': adminApi,
  'volume_extension:quota_classes:update': adminApi,
  'limits_extension:used_limits': or(systemAdminOrProjectReader, adminOrOwner),
  // cinder/policies/volume_transfer.py
  'volume:get_all_transfers': or(systemAdminOrProjectReader, adminOrOwner),
  'volume:create_transfer': memberOrOwner,
  'volume:get_transfer': or(systemAdminOrProjectReader, adminOrOwner),
  'volume:accept_transfer': or(systemAdminOrProjectMember, always),
  'volume:delete_transfer': memberOrOwner,
  'context_is_admin': (ctx) => hasRole(ctx, 'admin'),
  // Not Cinder's: the stale report (src/volume-api/stale.ts) names every project's volumes.
  'cinder-ts:stale_report': adminApi,
};

const parsedBase = new Map<string, ParsedCheck>();

/**
 * What `rule:<name>` finds (oslo's enforcer.rules): the policy file's rule of that name, else the
 * port's default (RULES), else Cinder's base rule (cinder/policies/base.py); none: undefined.
 */
export function resolveRule(name: string): ResolvedRule | undefined {
  const o = fileRule(name);
  if (o) return (ctx, t) => o(ctx, t, resolveRule);
  const d = RULES[name];
  if (d) return (ctx, t) => d(ctx, t as PolicyTarget);
  const base = CINDER_BASE_RULES[name];
  if (base === undefined) return undefined;
  if (!parsedBase.has(name)) parsedBase.set(name, parseRule(base));
  const p = parsedBase.get(name)!;
  return (ctx, t) => p(ctx, t, resolveRule);
}

setRuleResolver(resolveRule);

export function isAllowed(ctx: RequestContext, rule: string, target: PolicyTarget = {}): boolean {
  const check = RULES[rule];
  if (!check) throw new Error(`unknown policy rule ${rule}`);
  // oslo.policy fills a target without project_id from the context (Cinder's authorize does so).
  const t: PolicyTarget = { project_id: ctx.project_id, user_id: ctx.user_id, ...target };
  // A rule of the same name in policy.yaml replaces the default (src/common/policy-file.ts).
  const o = fileRule(rule);
  return o ? o(ctx, t as Target, resolveRule) : check(ctx, t);
}

/** context.authorize(): raises PolicyNotAuthorized (403) when the rule denies. */
export function authorize(ctx: RequestContext, rule: string, target: PolicyTarget = {}): void {
  if (!isAllowed(ctx, rule, target)) throw new PolicyNotAuthorized({ action: rule });
}
