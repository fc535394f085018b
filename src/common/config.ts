// cinder.conf, read with Cinder's option names. Unknown options are ignored as oslo.config does;
// a bad or missing required option stops the process with one line naming it ([section] option).
// This file is what CONF is to Cinder (cinder/common/config.py, with every group cinder/opts.py
// lists): the whole configuration assembled from its sections, and the one entry for code outside
// src/common/config/. The sections live there, one module per owner of the options: oslo-config.ts
// (value types, section reader, interpolation), default-section.ts, backend.ts, database.ts,
// messaging.ts, locks.ts, keystoneauth.ts, metrics.ts; [oslo_messaging_notifications] and
// [oslo_policy] are read by src/notifier/options.ts and src/common/policy-options.ts.
// Rule: outside src/common/config/ import only from here; inside it, import the defining module.
import fs from 'node:fs';
import { parse as parseIni } from 'ini';
import { notificationSettings, type NotificationSettings } from '../notifier/options.js';
import { backendSections, type BackendConfig } from './config/backend.js';
import { databaseSection, type DatabaseConfig } from './config/database.js';
import { defaultSection, type DefaultSection } from './config/default-section.js';
import { keystoneauthSections, type KeystoneAuthtokenSection, type NovaSection, type ServiceUserSection } from './config/keystoneauth.js';
import { coordinationSection, lockPathSection, type CoordinationSettings, type LockPathSettings } from './config/locks.js';
import { rabbitSection, type RabbitSettings } from './config/messaging.js';
import { metricsSection, type MetricsSettings } from './config/metrics.js';
import { ConfigError, osloSection } from './config/oslo-config.js';
import { policySettings, type PolicySettings } from './policy-options.js';

export { ConfigError, osloSection } from './config/oslo-config.js';
export type { DefaultSection } from './config/default-section.js';
export { poolName, serviceHost, type BackendConfig } from './config/backend.js';
export type { DatabaseConfig } from './config/database.js';
export { amqpUrl, transportOptions } from './config/messaging.js';
export { keystoneAuthSettings, serviceUserSettings } from './config/keystoneauth.js';

export interface CinderConfig {
  DEFAULT: DefaultSection;
  oslo_messaging_rabbit: RabbitSettings;
  database: DatabaseConfig;
  oslo_concurrency: LockPathSettings;
  coordination: CoordinationSettings;
  backends: BackendConfig[];
  keystone_authtoken: KeystoneAuthtokenSection;
  nova: NovaSection;
  service_user: ServiceUserSection;
  metrics: MetricsSettings;
  /** oslo.messaging's notifier options (src/notifier/options.ts). */
  oslo_messaging_notifications: NotificationSettings;
  /** oslo.policy's policy_file / policy_dirs (src/common/policy-options.ts). */
  oslo_policy: PolicySettings;
}

/** Every section of a cinder.conf text; the first bad option found throws its ConfigError. */
export function parseConfig(text: string): CinderConfig {
  const raw = parseIni(text) as Record<string, Record<string, unknown>>;
  const DEFAULT = defaultSection(raw.DEFAULT);
  const vars = { state_path: DEFAULT.state_path, host: DEFAULT.host, my_ip: DEFAULT.my_ip };
  const database = databaseSection(raw.database, DEFAULT.state_path, vars);
  const oslo_concurrency = lockPathSection(raw.oslo_concurrency?.lock_path, vars);
  const backends = backendSections(raw, DEFAULT, vars);
  const { keystone_authtoken, nova, service_user } = keystoneauthSections(text);
  const oslo_messaging_rabbit = rabbitSection(raw.oslo_messaging_rabbit, DEFAULT);
  const metrics = metricsSection(raw.metrics);
  const coordination = coordinationSection(raw.coordination?.backend_url, vars);
  let oslo_messaging_notifications: NotificationSettings;
  try {
    oslo_messaging_notifications = notificationSettings(text);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const oslo_policy = policySettings(osloSection(text, 'oslo_policy'));
  return { DEFAULT, oslo_messaging_rabbit, database, oslo_concurrency, coordination, backends, keystone_authtoken, nova, service_user, metrics, oslo_messaging_notifications, oslo_policy };
}

export function loadConfig(file: string): CinderConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`config error: cannot read --config-file ${file}: ${(e as Error).message}`);
  }
  return parseConfig(text);
}

/** `--config-file X` from argv; exits with one line when it is missing or the file is bad. */
export function loadConfigFromArgv(argv: string[]): CinderConfig {
  const i = argv.indexOf('--config-file');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (!file) {
    process.stderr.write('config error: --config-file <cinder.conf> is required\n');
    process.exit(2);
  }
  try {
    return loadConfig(file);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
}
