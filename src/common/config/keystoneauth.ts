// The keystoneauth sections: [keystone_authtoken] (keystonemiddleware/auth_token/_opts.py _OPTS plus
// keystoneauth's auth options), [nova] (cinder/compute/nova.py nova_opts with keystoneauth's session
// options) and [service_user] (cinder/service_auth.py). [keystone_authtoken] and [service_user] share
// the password plugin's options (keystoneauth1/loading/_plugins/identity/generic.py Password); which
// of them are required is decided when a service needs them (keystoneAuthSettings,
// serviceUserSettings), not at parse time: keystoneauth loads a plugin only when it is used.
import { z } from 'zod';
import type { CinderConfig } from '../config.js';
import { ConfigError, bool, int, list, optStr, osloSection, sectionOf } from './oslo-config.js';

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

/**
 * [keystone_authtoken]: the keystonemiddleware auth_token options cinder-ts implements (the
 * password plugin's own options included). Only read by cinder-api with auth_strategy = keystone;
 * which ones are required is decided by keystoneAuthSettings().
 */
const keystoneAuthtokenSchema = z.object({
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
const novaSectionSchema = z.object({
  region_name: optStr,
  interface: z.enum(['public', 'admin', 'internal']).default('public'),
  token_auth_url: optStr,
  cafile: optStr,
  insecure: bool.default(false),
  /** Seconds; unset: no timeout. */
  timeout: int(1).optional(),
});

/** [service_user] (cinder/service_auth.py): send our own service token along to Nova. */
const serviceUserSectionSchema = z.object({
  send_service_user_token: bool.default(false),
  ...passwordPluginShape,
});

export type NovaSection = z.infer<typeof novaSectionSchema>;
export type ServiceUserSection = z.infer<typeof serviceUserSectionSchema>;

/**
 * The three sections as written, read with oslo.config's own parser (osloSection): a password may
 * hold `#` or `;`.
 */
export function keystoneauthSections(text: string) {
  const keystone_authtoken = sectionOf(keystoneAuthtokenSchema, osloSection(text, 'keystone_authtoken'), 'keystone_authtoken');
  const nova = sectionOf(novaSectionSchema, osloSection(text, 'nova'), 'nova');
  const service_user = sectionOf(serviceUserSectionSchema, osloSection(text, 'service_user'), 'service_user');
  return { keystone_authtoken, nova, service_user };
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
