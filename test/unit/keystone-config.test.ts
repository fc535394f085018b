// [keystone_authtoken] as cinder-api reads it: defaults, oslo.config's line syntax (a password may
// hold '#' or ';'), and, with auth_strategy = keystone, a missing or bad option stopping the API
// process with one line naming it. noauth and the volume service never need the section.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keystoneAuthSettings, osloSection, parseConfig, serviceUserSettings } from '../../src/common/config.js';
import { authenticatorFor } from '../../src/api/auth.js';
import { keystoneAuthenticatorFromConfig } from '../../src/api/keystone-auth.js';

const REPO = path.resolve(__dirname, '../..');
const FULL = {
  auth_type: 'password',
  auth_url: 'http://keystone:5000/v3',
  username: 'cinder',
  password: 'pw',
  user_domain_name: 'Default',
  project_name: 'service',
  project_domain_name: 'Default',
};
const conf = (opts: Record<string, string>, strategy = 'keystone') =>
  `[DEFAULT]\nauth_strategy = ${strategy}\n\n[keystone_authtoken]\n${Object.entries(opts).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
const without = (k: string) => Object.fromEntries(Object.entries(FULL).filter(([key]) => key !== k));

describe('[keystone_authtoken]', () => {
  it("defaults: service_token_roles ['service'], not required, token_cache_time 300, verify TLS, 3 retries", () => {
    const s = keystoneAuthSettings(parseConfig(conf(FULL)));
    expect(s).toMatchObject({
      service_token_roles: ['service'],
      service_token_roles_required: false,
      token_cache_time: 300,
      insecure: false,
      http_request_max_retries: 3,
      www_authenticate_uri: 'http://keystone:5000/v3',
    });
    expect(s.cafile).toBeUndefined();
    expect(s.http_connect_timeout).toBeUndefined();
  });

  it('reads the options with their Cinder types', () => {
    const s = keystoneAuthSettings(
      parseConfig(
        conf({
          ...FULL,
          www_authenticate_uri: 'https://id.example.com',
          service_token_roles: 'service, nova',
          service_token_roles_required: 'True',
          token_cache_time: '-1',
          insecure: 'yes',
          http_connect_timeout: '5',
        }),
      ),
    );
    expect(s).toMatchObject({
      www_authenticate_uri: 'https://id.example.com',
      service_token_roles: ['service', 'nova'],
      service_token_roles_required: true,
      token_cache_time: -1,
      insecure: true,
      http_connect_timeout: 5,
    });
  });

  it('www_authenticate_uri falls back to the deprecated auth_uri, then to auth_url', () => {
    expect(keystoneAuthSettings(parseConfig(conf({ ...FULL, auth_uri: 'http://old:5000' }))).www_authenticate_uri).toBe('http://old:5000');
  });

  it('domain ids are accepted instead of names', () => {
    const { user_domain_name: _u, project_domain_name: _p, ...rest } = FULL;
    const s = keystoneAuthSettings(parseConfig(conf({ ...rest, user_domain_id: 'default', project_domain_id: 'default' })));
    expect(s).toMatchObject({ user_domain_id: 'default', project_domain_id: 'default' });
  });

  it('reads values as oslo.config does: # and ; inside a value, quotes, colon separator, continuation lines', () => {
    const text = "[DEFAULT]\nx = 1\n[keystone_authtoken]\n# a comment\npassword = p#ss;w0rd\nusername: \"cinder\"\nproject_name = 'a b'\nwww_authenticate_uri = http://a\n  http://b\n[other]\npassword = no\n";
    expect(osloSection(text, 'keystone_authtoken')).toEqual({
      password: 'p#ss;w0rd',
      username: 'cinder',
      project_name: 'a b',
      www_authenticate_uri: 'http://a\nhttp://b',
    });
    expect(parseConfig(conf({ ...FULL, password: 'p#ss;w0rd' })).keystone_authtoken.password).toBe('p#ss;w0rd');
  });

  it.each([
    ['auth_type', without('auth_type'), "config error: [keystone_authtoken] auth_type: required with auth_strategy = keystone (only 'password' is supported)"],
    ['auth_type', { ...FULL, auth_type: 'v3token' }, "config error: [keystone_authtoken] auth_type: only 'password' is supported, got 'v3token'"],
    ['auth_url', without('auth_url'), 'config error: [keystone_authtoken] auth_url: required with auth_strategy = keystone'],
    ['auth_url', { ...FULL, auth_url: 'keystone:5000' }, "config error: [keystone_authtoken] auth_url: expected an http:// or https:// URL, got 'keystone:5000'"],
    ['username', without('username'), 'config error: [keystone_authtoken] username: required with auth_strategy = keystone'],
    ['password', { ...FULL, password: '' }, 'config error: [keystone_authtoken] password: required with auth_strategy = keystone'],
    ['user_domain_name', without('user_domain_name'), 'config error: [keystone_authtoken] user_domain_name: required with auth_strategy = keystone (or user_domain_id)'],
    ['project_name', without('project_name'), 'config error: [keystone_authtoken] project_name: required with auth_strategy = keystone'],
    ['project_domain_name', without('project_domain_name'), 'config error: [keystone_authtoken] project_domain_name: required with auth_strategy = keystone (or project_domain_id)'],
  ])('%s missing or bad: one line naming it', (_opt, opts, line) => {
    expect(() => keystoneAuthSettings(parseConfig(conf(opts as Record<string, string>)))).toThrow(line);
    expect(() => authenticatorFor('keystone', { config: parseConfig(conf(opts as Record<string, string>)) })).toThrow(line);
  });

  it('bad values stop parsing with one line', () => {
    expect(() => parseConfig(conf({ ...FULL, token_cache_time: 'long' }))).toThrow(
      /^config error: \[keystone_authtoken\] token_cache_time: expected an integer >= -1, got 'long'$/,
    );
    expect(() => parseConfig(conf({ ...FULL, service_token_roles_required: 'maybe' }))).toThrow(
      /^config error: \[keystone_authtoken\] service_token_roles_required: expected a boolean/,
    );
  });

  it('an unreadable cafile is a config error', () => {
    expect(() => keystoneAuthenticatorFromConfig(parseConfig(conf({ ...FULL, cafile: '/nonexistent/ca.pem' })))).toThrow(
      'config error: [keystone_authtoken] cafile: cannot read /nonexistent/ca.pem: ENOENT',
    );
  });

  it('noauth needs no [keystone_authtoken], and still reads service_token_roles', () => {
    const cfg = parseConfig('[DEFAULT]\nauth_strategy = noauth\n[keystone_authtoken]\nservice_token_roles = nova\n');
    expect(authenticatorFor('noauth', { config: cfg }).strategy).toBe('noauth');
    expect(cfg.keystone_authtoken.service_token_roles).toEqual(['nova']);
  });
});

describe('cinder-api with auth_strategy = keystone', () => {
  function run(text: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-kscfg-'));
    const file = path.join(dir, 'cinder.conf');
    fs.writeFileSync(file, text);
    const r = spawnSync(path.join(REPO, 'bin/cinder-ts'), ['api', '--config-file', file], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  }

  it('stops at start with one line naming the missing option, before connecting anywhere', () => {
    // transport_url points nowhere: the config check must come first.
    const r = run(`[DEFAULT]\nauth_strategy = keystone\ntransport_url = rabbit://guest:guest@127.0.0.1:9/\n[keystone_authtoken]\nauth_type = password\nusername = cinder\n`);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['config error: [keystone_authtoken] auth_url: required with auth_strategy = keystone']);
  });

  it('the default auth_strategy is keystone, so an empty config names auth_type', () => {
    const r = run('[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:9/\n');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "config error: [keystone_authtoken] auth_type: required with auth_strategy = keystone (only 'password' is supported)",
    ]);
  });
});

describe('[nova] and [service_user] (the deletion guard asks Nova)', () => {
  it('defaults: public interface, any region, token exchange at the catalog identity endpoint, no service token', () => {
    const cfg = parseConfig('[DEFAULT]\nauth_strategy = noauth\n');
    expect(cfg.nova).toEqual({ interface: 'public', insecure: false });
    expect(cfg.service_user.send_service_user_token).toBe(false);
    expect(serviceUserSettings(cfg)).toBeNull();
    expect(cfg.keystone_authtoken.include_service_catalog).toBe(true);
  });

  it('reads region_name, interface, token_auth_url, timeout', () => {
    const cfg = parseConfig('[nova]\nregion_name = R2\ninterface = internal\ntoken_auth_url = http://ks:5000/v3\ntimeout = 30\n');
    expect(cfg.nova).toMatchObject({ region_name: 'R2', interface: 'internal', token_auth_url: 'http://ks:5000/v3', timeout: 30 });
  });

  it('a bad interface is one line naming it', () => {
    expect(() => parseConfig('[nova]\ninterface = private\n')).toThrow(/^config error: \[nova\] interface: /);
  });

  it('send_service_user_token needs the password plugin, named like [keystone_authtoken]', () => {
    const su = (o: Record<string, string>) => parseConfig(`[service_user]\nsend_service_user_token = true\n${Object.entries(o).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
    expect(() => serviceUserSettings(su({}))).toThrow(
      "config error: [service_user] auth_type: required with send_service_user_token = true (only 'password' is supported)",
    );
    expect(() => serviceUserSettings(su(without('password')))).toThrow('config error: [service_user] password: required with send_service_user_token = true');
    expect(serviceUserSettings(su(FULL))).toMatchObject({ auth_url: 'http://keystone:5000/v3', username: 'cinder', project_name: 'service' });
  });

  it('cinder-api stops at start with that line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-su-'));
    const file = path.join(dir, 'cinder.conf');
    fs.writeFileSync(file, '[DEFAULT]\nauth_strategy = noauth\n[service_user]\nsend_service_user_token = true\nauth_type = password\n');
    const r = spawnSync(path.join(REPO, 'bin/cinder-ts'), ['api', '--config-file', file], { encoding: 'utf8', timeout: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('config error: [service_user] auth_url: required with send_service_user_token = true');
  });
});
