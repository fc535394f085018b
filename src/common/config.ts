// cinder.conf, read with Cinder's option names. Unknown options are ignored as oslo.config does;
// a bad or missing required option stops the process with one line naming it ([section] option).
import fs from 'node:fs';
import os from 'node:os';
import { parse as parseIni } from 'ini';
import { z } from 'zod';
import { notificationSettings, type NotificationSettings } from '../notifier/options.js';
import { policySettings, type PolicySettings } from './policy-options.js';

const bool = z
  .union([z.boolean(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected a boolean, got '${v}'` });
    return z.NEVER;
  });
const int = (min?: number, max?: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : Number(v.trim());
    if (!Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message: `expected an integer${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` <= ${max}` : ''}, got '${v}'` });
      return z.NEVER;
    }
    return n;
  });
const list = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : v.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);

export const defaultSectionSchema = z.object({
  transport_url: z
    .string()
    .regex(/^rabbit:\/\//, "must be a rabbit:// URL, e.g. rabbit://guest:guest@127.0.0.1:5672/")
    .default('rabbit://guest:guest@127.0.0.1:5672/'),
  host: z.string().min(1).default(os.hostname()),
  enabled_backends: list.default([]),
  auth_strategy: z.enum(['noauth', 'keystone']).default('keystone'),
  rpc_response_timeout: int(1).default(60),
  /** Retries of a failed driver initialization at start-up, after 1, 2, 4 … s. */
  reinit_driver_count: int(0).default(3),
  control_exchange: z.string().min(1).default('openstack'),
  state_path: z.string().min(1).default('/var/lib/cinder'),
  my_ip: z.string().min(1).default('127.0.0.1'),
  osapi_volume_listen: z.string().min(1).default('0.0.0.0'),
  osapi_volume_listen_port: int(1, 65535).default(8776),
  /** cinder-api worker processes on the one port (Cinder's default: the number of CPUs). */
  osapi_volume_workers: int(1).default(Math.max(1, os.availableParallelism?.() ?? os.cpus().length)),
  /** Prefix for every command run as root (Cinder builds it from rootwrap_config). */
  root_helper: z.string().default('sudo cinder-rootwrap /etc/cinder/rootwrap.conf'),
  /** Where cinder-rtstool is found; Cinder runs it by name through rootwrap. */
  rtstool_path: z.string().min(1).default('cinder-rtstool'),
  /** Deprecated location of [oslo_messaging_rabbit] amqp_auto_delete / rabbit_ha_queues (still read). */
  amqp_auto_delete: bool.optional(),
  rabbit_ha_queues: bool.optional(),
  storage_availability_zone: z.string().default('nova'),
  /** Where a volume goes when the request names no zone; unset: storage_availability_zone. */
  default_availability_zone: z.string().min(1).optional(),
  /** cinder/common/config.py: the type a volume gets when the request names none (and no project default is set). */
  default_volume_type: z.string().default('__DEFAULT__'),
  /** An unknown requested zone falls back to the default instead of a 400. */
  allow_availability_zone_fallback: bool.default(false),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** Seconds between a service's heartbeats in the services table (cinder/service.py). */
  report_interval: int(1).default(10),
  /** A service whose heartbeat is older than this many seconds is down (cinder/utils.py service_is_up). */
  service_down_time: int(1).default(60),
  /** cinder/message/api.py: seconds a user message is kept, and between the scheduler's cleanups of expired ones. */
  message_ttl: int(0).default(2592000),
  message_reap_interval: int(1).default(86400),
  /** cinder/volume/api.py: seconds the create path keeps the availability zone list. */
  az_cache_duration: int(0).default(3600),
  /** Seconds between a manager's periodic tasks, e.g. publishing capabilities to the schedulers. */
  periodic_interval: int(1).default(60),
  /** Seconds between get_volume_stats polls of each backend (volume/manager.py). */
  backend_stats_polling_interval: int(1).default(60),
  /** cinder/scheduler/host_manager.py: filters and weighers by class name, applied in this order. */
  scheduler_default_filters: list.default(['AvailabilityZoneFilter', 'CapacityFilter', 'CapabilitiesFilter']),
  scheduler_default_weighers: list.default(['CapacityWeigher']),
  /** cinder/scheduler/driver.py: attempts to schedule a volume (1 disables rescheduling). */
  scheduler_max_attempts: int(1).default(3),
  /** cinder/scheduler/weights/capacity.py. */
  capacity_weight_multiplier: z.union([z.number(), z.string()]).transform(Number).default(1.0),
  allocated_capacity_weight_multiplier: z.union([z.number(), z.string()]).transform(Number).default(-1.0),
  /** cinder/scheduler/manager.py: seconds the scheduler waits at start for every volume service's capabilities. */
  scheduler_driver_init_wait_time: int(0).default(60),
  /** cinder/quota.py quota_opts: the defaults when neither the project nor the 'default' class sets a limit (-1: unlimited). */
  quota_volumes: int(-1).default(10),
  quota_snapshots: int(-1).default(10),
  quota_consistencygroups: int(-1).default(10),
  quota_groups: int(-1).default(10),
  quota_gigabytes: int(-1).default(1000),
  quota_backups: int(-1).default(10),
  quota_backup_gigabytes: int(-1).default(1000),
  per_volume_size_limit: int(-1).default(-1),
  /** Seconds until a reservation expires; reservations a usage refresh counts down; seconds between usage refreshes (0: never). */
  reservation_expire: int(0).default(86400),
  /** cinder/quota.py: seconds between the scheduler's cleanups of expired reservations (unset: reservation_expire). */
  reservation_clean_interval: int().optional(),
  until_refresh: int(0).default(0),
  max_age: int(0).default(0),
  /** Use the 'default' quota class's limits as the defaults (else the quota_* options). */
  use_default_quota_class: bool.default(true),
});

export const backendSectionSchema = z.object({
  volume_driver: z
    .enum(['cinder.volume.drivers.lvm.LVMVolumeDriver'])
    .default('cinder.volume.drivers.lvm.LVMVolumeDriver'),
  volume_group: z.string().min(1).default('cinder-volumes'),
  volume_backend_name: z.string().min(1).optional(),
  target_helper: z.enum(['lioadm']).default('lioadm'),
  target_ip_address: z.string().min(1).optional(),
  target_port: int(1, 65535).default(3260),
  target_prefix: z.string().min(1).default('iqn.2010-10.org.openstack:'),
  target_protocol: z.enum(['iscsi', 'iser']).optional(),
  /** Deprecated name of target_protocol, still read by Cinder. */
  iscsi_protocol: z.enum(['iscsi', 'iser']).optional(),
  iscsi_secondary_ip_addresses: list.default([]),
  /** Cinder's default: thin when the VG has a thin pool or no LVs yet, else thick. */
  lvm_type: z.enum(['default', 'thin', 'auto']).default('auto'),
  lvm_mirrors: int(0).default(0),
  /** Its directory becomes LVM_SYSTEM_DIR of every lvm command when the file exists; 'None': never. */
  lvm_conf_file: z.string().default('/etc/cinder/lvm.conf'),
  lvm_suppress_fd_warnings: bool.default(false),
  volume_clear: z.enum(['zero', 'none']).default('zero'),
  volume_clear_size: int(0).default(0),
  volume_dd_blocksize: z.string().default('1M'),
  /** Run the storage commands on another host over ssh (ControlMaster); empty means locally. */
  ssh_host: z.string().optional(),
  ssh_user: z.string().default('root'),
  ssh_port: int(1, 65535).default(22),
  ssh_private_key: z.string().optional(),
  /**
   * Seconds before a storage command is killed. Unset (the default) means none, as Cinder's
   * processutils.execute: a volume_clear dd of a large LV may run for many minutes.
   */
  command_timeout: int(1).optional(),
  /** cinder/volume/driver.py volume_opts: thin over-subscription, a float or 'auto'. */
  max_over_subscription_ratio: z.string().default('20.0'),
  /** Percentage of backend capacity reserved (0–100). */
  reserved_percentage: int(0, 100).default(0),
  /** Availability zone of this backend's service; unset: [DEFAULT] storage_availability_zone. */
  backend_availability_zone: z.string().min(1).optional(),
});

/** An unset or empty string option (oslo.config: `opt =` leaves it empty). */
const optStr = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * [keystone_authtoken]: the keystonemiddleware auth_token options cinder-ts implements (the
 * password plugin's own options included). Only read by cinder-api with auth_strategy = keystone;
 * which ones are required is decided by keystoneAuthSettings().
 */
/** keystoneauth's password plugin options (`auth_type = password`), in any section that has them. */
const passwordPluginShape = {
  auth_type: optStr,
  auth_url: optStr,
  username: optStr,
  password: z.string().optional(),
  user_domain_name: optStr,
  user_domain_id: optStr,
  project_name: optStr,
  project_domain_name: optStr,
  project_domain_id: optStr,
};

const passwordPluginSchema = z.object(passwordPluginShape);

export const keystoneAuthtokenSchema = z.object({
  www_authenticate_uri: optStr,
  /** Deprecated name of www_authenticate_uri, still read by keystonemiddleware. */
  auth_uri: optStr,
  ...passwordPluginShape,
  service_token_roles: list.default(['service']),
  service_token_roles_required: bool.default(false),
  /** Seconds a validated token is kept; 0 keeps it until the token expires, -1 disables the cache. */
  token_cache_time: int(-1).default(300),
  insecure: bool.default(false),
  cafile: optStr,
  /** Seconds; unset means no timeout of our own, as keystonemiddleware. */
  http_connect_timeout: int(1).optional(),
  http_request_max_retries: int(0).default(3),
  include_service_catalog: bool.default(true),
});

export type KeystoneAuthtokenSection = z.infer<typeof keystoneAuthtokenSchema>;

/**
 * [nova] (cinder/compute/nova.py): where the OSSA-2023-003 guard asks Nova whether it still uses an
 * attachment. The session options cafile/insecure/timeout are keystoneauth's.
 */
export const novaSectionSchema = z.object({
  region_name: optStr,
  interface: z.enum(['public', 'admin', 'internal']).default('public'),
  token_auth_url: optStr,
  cafile: optStr,
  insecure: bool.default(false),
  /** Seconds; unset: no timeout. */
  timeout: int(1).optional(),
});

/** [service_user] (cinder/service_auth.py): send our own service token along to Nova. */
export const serviceUserSectionSchema = z.object({
  send_service_user_token: bool.default(false),
  ...passwordPluginShape,
});

export type DefaultSection = z.infer<typeof defaultSectionSchema>;
export type BackendConfig = z.infer<typeof backendSectionSchema> & {
  name: string;
  target_protocol: 'iscsi' | 'iser';
  target_ip_address: string;
};

/**
 * [oslo_messaging_rabbit]: how queues and the exchange are declared. Every service on the broker
 * must declare them alike (RabbitMQ refuses a second declare with other flags), so these are the
 * oslo.messaging options with their defaults and sections.
 */
export const rabbitSectionSchema = z.object({
  amqp_durable_queues: bool.default(false),
  amqp_auto_delete: bool.optional(),
  rabbit_ha_queues: bool.optional(),
  rabbit_quorum_queue: bool.default(false),
  rabbit_transient_queues_ttl: int(1).default(1800),
});

/** Not Cinder's: where the Prometheus metrics are served (src/common/metrics.ts). */
export const metricsSectionSchema = z.object({
  /** GET /metrics on cinder-api's own port (unauthenticated, like the version document at /). */
  api_enabled: bool.default(true),
  /** The volume-manager has no HTTP server: /metrics and /outlived on this address when a port is set. */
  volume_listen: z.string().min(1).default('127.0.0.1'),
  volume_port: int(1, 65535).optional(),
  /** Seconds a volume may sit in a transient status before the stale report and metric count it. */
  stale_after: int(1).default(600),
});

/**
 * [database], oslo.db's options where a Node pool has them (oslo_db/options.py): the pool of each
 * process (max_pool_size + max_overflow connections at most, idle ones closed after
 * connection_recycle_time, a checkout waiting at most pool_timeout seconds, SQLAlchemy's 30 when
 * unset), and how often and how far apart the first connection is tried at start.
 */
export const databaseSectionSchema = z.object({
  connection: z.string().optional(),
  max_pool_size: int(1).default(5),
  max_overflow: int(0).default(50),
  pool_timeout: int(1).optional(),
  connection_recycle_time: int(1).default(3600),
  /** -1: forever, as oslo.db. */
  max_retries: int(-1).default(10),
  retry_interval: int(0).default(10),
  /** Not oslo.db's: seconds a statement waits, without blocking the process, for another process's SQLite write lock. */
  sqlite_lock_timeout: int(0).default(30),
});
export type DatabaseConfig = Omit<z.infer<typeof databaseSectionSchema>, 'connection'> & { connection: string };

export interface CinderConfig {
  DEFAULT: DefaultSection;
  oslo_messaging_rabbit: {
    amqp_durable_queues: boolean;
    amqp_auto_delete: boolean;
    rabbit_ha_queues: boolean;
    rabbit_quorum_queue: boolean;
    rabbit_transient_queues_ttl: number;
  };
  database: DatabaseConfig;
  oslo_concurrency: { lock_path: string };
  /** [coordination] backend_url (default file://$state_path) and the directory of its file driver. */
  coordination: { backend_url: string; lock_dir: string };
  backends: BackendConfig[];
  keystone_authtoken: KeystoneAuthtokenSection;
  nova: z.infer<typeof novaSectionSchema>;
  service_user: z.infer<typeof serviceUserSectionSchema>;
  metrics: z.infer<typeof metricsSectionSchema>;
  /** oslo.messaging's notifier options (src/notifier/options.ts). */
  oslo_messaging_notifications: NotificationSettings;
  /** oslo.policy's policy_file / policy_dirs (src/common/policy-options.ts). */
  oslo_policy: PolicySettings;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function sectionOf<T extends z.ZodTypeAny>(schema: T, raw: unknown, section: string): z.infer<T> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const opt = issue.path.join('.') || '?';
  throw new ConfigError(`config error: [${section}] ${opt}: ${issue.message}`);
}

/** `$state_path`-style interpolation, as oslo.config does for string options. */
function interpolate(v: string, vars: Record<string, string>): string {
  return v.replace(/\$\{?(\w+)\}?/g, (m, k: string) => vars[k] ?? m);
}

export function parseConfig(text: string): CinderConfig {
  const raw = parseIni(text) as Record<string, Record<string, unknown>>;
  const DEFAULT = sectionOf(defaultSectionSchema, raw.DEFAULT, 'DEFAULT');
  const vars = { state_path: DEFAULT.state_path, host: DEFAULT.host, my_ip: DEFAULT.my_ip };
  const db = sectionOf(databaseSectionSchema, raw.database, 'database');
  const database = {
    ...db,
    connection: interpolate(db.connection ? db.connection : `sqlite:///${DEFAULT.state_path}/cinder.sqlite`, vars),
  };
  const lockPath = raw.oslo_concurrency?.lock_path;
  const oslo_concurrency = {
    lock_path: interpolate(typeof lockPath === 'string' && lockPath ? lockPath : '$state_path/lock', vars),
  };
  const backends = DEFAULT.enabled_backends.map((name): BackendConfig => {
    if (!raw[name]) throw new ConfigError(`config error: [DEFAULT] enabled_backends: section [${name}] is missing`);
    const b = sectionOf(backendSectionSchema, raw[name], name);
    return {
      ...b,
      name,
      target_protocol: b.target_protocol ?? b.iscsi_protocol ?? 'iscsi',
      target_ip_address: interpolate(b.target_ip_address ?? DEFAULT.my_ip, vars),
    };
  });
  const keystone_authtoken = sectionOf(keystoneAuthtokenSchema, osloSection(text, 'keystone_authtoken'), 'keystone_authtoken');
  const nova = sectionOf(novaSectionSchema, osloSection(text, 'nova'), 'nova');
  const service_user = sectionOf(serviceUserSectionSchema, osloSection(text, 'service_user'), 'service_user');
  const rabbit = sectionOf(rabbitSectionSchema, raw.oslo_messaging_rabbit, 'oslo_messaging_rabbit');
  const oslo_messaging_rabbit = {
    amqp_durable_queues: rabbit.amqp_durable_queues,
    // deprecated_group='DEFAULT': the new section wins when both are set
    amqp_auto_delete: rabbit.amqp_auto_delete ?? DEFAULT.amqp_auto_delete ?? false,
    rabbit_ha_queues: rabbit.rabbit_ha_queues ?? DEFAULT.rabbit_ha_queues ?? false,
    rabbit_quorum_queue: rabbit.rabbit_quorum_queue,
    rabbit_transient_queues_ttl: rabbit.rabbit_transient_queues_ttl,
  };
  const metrics = sectionOf(metricsSectionSchema, raw.metrics, 'metrics');
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

/**
 * cinder/coordination.py: the tooz coordinator at [coordination] backend_url. Only tooz's file
 * driver is ported; its lock files live in the URL's path (tooz FileDriver: parsed_url.path).
 */
function coordinationSection(raw: unknown, vars: Record<string, string>): CinderConfig['coordination'] {
  // Unset: Cinder's default file://$state_path, i.e. the state_path directory (relative or not).
  if (typeof raw !== 'string' || !raw) return { backend_url: `file://${vars.state_path}`, lock_dir: vars.state_path };
  const backend_url = interpolate(raw, vars);
  if (!backend_url.startsWith('file://')) {
    throw new ConfigError(`config error: [coordination] backend_url: only the file:// driver is supported, got '${backend_url}'`);
  }
  const lock_dir = decodeURIComponent(new URL(backend_url).pathname);
  if (!lock_dir || lock_dir === '/') throw new ConfigError(`config error: [coordination] backend_url: no directory in '${backend_url}'`);
  return { backend_url, lock_dir };
}

/** The RPC transport's options from cinder.conf (transport_url, control_exchange, the queue flags). */
export function transportOptions(cfg: CinderConfig) {
  const r = cfg.oslo_messaging_rabbit;
  return {
    url: cfg.DEFAULT.transport_url,
    controlExchange: cfg.DEFAULT.control_exchange,
    durableQueues: r.amqp_durable_queues,
    autoDelete: r.amqp_auto_delete,
    haQueues: r.rabbit_ha_queues,
    quorumQueues: r.rabbit_quorum_queue,
    transientQueuesTtl: r.rabbit_transient_queues_ttl,
  };
}

/**
 * One section read as oslo.config's parser does: `key = value` or `key: value`, whole-line `#`/`;`
 * comments only (a password may contain `#` or `;`, which the `ini` package would cut), one level
 * of matching quotes stripped, indented continuation lines joined with a newline, last one wins.
 */
export function osloSection(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inSection = false;
  let key: string | null = null;
  let value: string[] = [];
  const flush = () => {
    if (key !== null && inSection) out[key] = value.join('\n');
    key = null;
    value = [];
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line) {
      flush();
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (key !== null) value.push(line.trimStart());
      continue;
    }
    flush();
    if (line.startsWith('[')) {
      inSection = line.endsWith(']') && line.slice(1, -1) === name;
      continue;
    }
    if (line.startsWith('#') || line.startsWith(';')) continue;
    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    if (colon < 0 && equal < 0) continue;
    const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    let v = line.slice(at + 1).trim();
    if (v.length >= 2 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
    key = line.slice(0, at).trim();
    value = [v];
  }
  flush();
  return out;
}

/** keystoneauth's password plugin, every required option present. */
export interface PasswordPluginSettings {
  auth_url: string;
  username: string;
  password: string;
  user_domain_name?: string;
  user_domain_id?: string;
  project_name: string;
  project_domain_name?: string;
  project_domain_id?: string;
}

/** What cinder-api needs to validate tokens, every required option present. */
export type KeystoneAuthSettings = PasswordPluginSettings &
  Omit<KeystoneAuthtokenSection, keyof typeof passwordPluginShape | 'auth_uri' | 'www_authenticate_uri'> & {
    www_authenticate_uri: string;
  };

/** The password plugin of one section, or a ConfigError naming the first missing or bad option. */
function passwordPluginSettings(
  k: z.infer<typeof passwordPluginSchema>,
  section: string,
  required: string,
): PasswordPluginSettings {
  const fail = (opt: string, msg: string): never => {
    throw new ConfigError(`config error: [${section}] ${opt}: ${msg}`);
  };
  if (k.auth_type === undefined) fail('auth_type', `${required} (only 'password' is supported)`);
  if (k.auth_type !== 'password') fail('auth_type', `only 'password' is supported, got '${k.auth_type}'`);
  const authUrl = k.auth_url ?? fail('auth_url', required);
  if (!/^https?:\/\/[^\s/]+/.test(authUrl)) fail('auth_url', `expected an http:// or https:// URL, got '${authUrl}'`);
  const username = k.username ?? fail('username', required);
  const password = k.password === undefined || k.password === '' ? fail('password', required) : k.password;
  if (k.user_domain_name === undefined && k.user_domain_id === undefined) fail('user_domain_name', `${required} (or user_domain_id)`);
  const projectName = k.project_name ?? fail('project_name', required);
  if (k.project_domain_name === undefined && k.project_domain_id === undefined) {
    fail('project_domain_name', `${required} (or project_domain_id)`);
  }
  return {
    auth_url: authUrl,
    username,
    password,
    user_domain_name: k.user_domain_name,
    user_domain_id: k.user_domain_id,
    project_name: projectName,
    project_domain_name: k.project_domain_name,
    project_domain_id: k.project_domain_id,
  };
}

/**
 * The [keystone_authtoken] options auth_strategy = keystone needs, or a ConfigError naming the first
 * missing/bad one. www_authenticate_uri falls back to auth_uri, then to auth_url, as
 * keystonemiddleware does with the password plugin.
 */
export function keystoneAuthSettings(cfg: CinderConfig): KeystoneAuthSettings {
  const k = cfg.keystone_authtoken;
  const plugin = passwordPluginSettings(k, 'keystone_authtoken', 'required with auth_strategy = keystone');
  const www = k.www_authenticate_uri ?? k.auth_uri ?? plugin.auth_url;
  if (/[\x00-\x1f\x7f]/.test(www)) {
    throw new ConfigError(`config error: [keystone_authtoken] ${k.www_authenticate_uri ? 'www_authenticate_uri' : 'auth_uri'}: must be one line`);
  }
  return {
    ...plugin,
    www_authenticate_uri: www,
    service_token_roles: k.service_token_roles,
    service_token_roles_required: k.service_token_roles_required,
    token_cache_time: k.token_cache_time,
    insecure: k.insecure,
    cafile: k.cafile,
    http_connect_timeout: k.http_connect_timeout,
    http_request_max_retries: k.http_request_max_retries,
    include_service_catalog: k.include_service_catalog,
  };
}

/** [service_user]'s password plugin when send_service_user_token is set, else null. */
export function serviceUserSettings(cfg: CinderConfig): PasswordPluginSettings | null {
  if (!cfg.service_user.send_service_user_token) return null;
  return passwordPluginSettings(cfg.service_user, 'service_user', 'required with send_service_user_token = true');
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

/** `hostname@backend` as the volume service registers (cinder/cmd/volume.py). */
export function serviceHost(cfg: CinderConfig, backend: BackendConfig): string {
  return `${cfg.DEFAULT.host}@${backend.name}`;
}

/** The pool part of volume.host: volume_backend_name, or 'LVM' when unset (lvm.py). */
export function poolName(backend: BackendConfig): string {
  return backend.volume_backend_name ?? 'LVM';
}

/** rabbit://u:p@h:port/vhost → amqp://u:p@h:port/vhost (amqplib form). */
export function amqpUrl(transportUrl: string): string {
  return transportUrl.replace(/^rabbit:\/\//, 'amqp://');
}
