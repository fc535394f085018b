// [oslo_policy] as oslo.policy registers it (oslo_policy/opts.py): policy_file, default
// 'policy.yaml', found with oslo.config's find_file (src/common/policy-file.ts findPolicyFile).
// enforce_scope / enforce_new_defaults stay at Cinder 21's False (src/common/policy.ts is written so).

export interface PolicySettings {
  policy_file: string;
}

export function policySettings(section: Record<string, string>): PolicySettings {
  const f = section.policy_file?.trim();
  return { policy_file: f ? f : 'policy.yaml' };
}
