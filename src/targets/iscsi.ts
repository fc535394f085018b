// The iSCSI target logic every local target helper shares (cinder/volume/targets/iscsi.py): export
// creation with CHAP credentials, the provider_location / provider_auth formats, the connection
// properties parsed back out of them, and remove_export's "nothing to remove" cases. LioAdm
// (lio.ts) supplies the target-specific commands.
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { CommandExecutor } from '../common/executor.js';
import { ProcessExecutionError } from '../common/executor.js';
import { InvalidConnectorException, InvalidVolume, NotFound } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import type { BackendConfig } from '../common/config.js';
import type { ConnectionInfo } from '../drivers/driver.js';
import { type Volume, volumeName } from '../objects/volume.js';
import { pyTruthy } from '../common/python.js';
import { pyContains, pyDictGet, pyIndex, pyInt, pySplit, pySplitWs, pyUnpack } from './py.js';

/** The volume fields a target reads. */
export type TargetVolume = Pick<
  Volume,
  'id' | '_name_id' | 'provider_location' | 'provider_auth' | 'provider_geometry' | 'encryption_key_id' | 'host'
>;

/** The backend options a target reads (Cinder's names). */
export type TargetConfig = Pick<
  BackendConfig,
  'target_prefix' | 'target_ip_address' | 'target_port' | 'target_protocol' | 'iscsi_secondary_ip_addresses'
>;

export interface PortalsConfig {
  portals_ips?: string[];
  portals_port?: number;
}

export interface IscsiExport {
  /** provider_location: `<ip>:<port>[;<ip2>:<port>...],<tid> <iqn> <lun>` */
  location: string;
  /** provider_auth: `CHAP <user> <password>` */
  auth: string;
}

// ---- CHAP credentials (volume_utils.generate_password / generate_username) ----------------------

/** Symbol groups without look-alikes (no 0/1, I/O, l); one of each group goes into every secret. */
export const DEFAULT_PASSWORD_SYMBOLS = ['23456789', 'ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'] as const;

function shuffleInPlace(a: string[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * A random secret of `length` characters from `groups`, with at least one character of every group
 * (when length allows), drawn from a CSPRNG.
 */
export function generatePassword(length = 16, groups: readonly string[] = DEFAULT_PASSWORD_SYMBOLS): string {
  const chars = groups.map((g) => g[randomInt(g.length)]);
  shuffleInPlace(chars);
  chars.length = Math.min(chars.length, Math.max(length, 0));
  const all = groups.join('');
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  shuffleInPlace(chars);
  return chars.join('');
}

/** CHAP user names use the same generator, 20 characters long. */
export function generateUsername(length = 20, groups: readonly string[] = DEFAULT_PASSWORD_SYMBOLS): string {
  return generatePassword(length, groups);
}

/** oslo netutils-style IPv6 check (an optional `%scope` of 1..15 characters is allowed). */
export function isValidIpv6(address: string): boolean {
  if (!address) return false;
  const pct = address.lastIndexOf('%');
  if (pct >= 0) {
    const scope = address.slice(pct + 1);
    if (scope.length < 1 || scope.length > 15) return false;
    return isIPv6(address.slice(0, pct));
  }
  return isIPv6(address);
}

/** volume_utils.sanitize_host: IPv6 addresses get brackets for `host:port` strings. */
export function sanitizeHost(host: string): string {
  return isValidIpv6(host) ? `[${host}]` : host;
}

/** Python's str() of a connector value that lands in an argv. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function isProcessExecutionError(e: unknown): e is ProcessExecutionError {
  return e instanceof ProcessExecutionError;
}

export abstract class ISCSITarget {
  readonly protocol = 'iSCSI';
  /** target_protocol: 'iscsi' or 'iser'; it is also the driver_volume_type returned to callers. */
  readonly iscsiProtocol: string;

  constructor(
    protected readonly config: TargetConfig,
    protected readonly executor: CommandExecutor,
    protected readonly logger: Logger,
  ) {
    this.iscsiProtocol = config.target_protocol;
  }

  // ---- target-specific operations ----
  abstract getTargetAndLun(volume: TargetVolume): [number, number];
  abstract createIscsiTarget(
    name: string,
    tid: number,
    lun: number,
    path: string,
    chapAuth: readonly string[] | null,
    portals: PortalsConfig,
  ): Promise<string | number>;
  abstract removeIscsiTarget(tid: number, lun: number, volId: string, volName: string): Promise<void>;
  /** The target line/id for `iqn`, or null when the target does not exist. */
  abstract getTarget(iqn: string): Promise<string | number | null>;

  /** The IQN of the target for `volume`: target_prefix + volume name. */
  iscsiName(volume: TargetVolume): string {
    return `${this.config.target_prefix}${volumeName(volume)}`;
  }

  /**
   * CHAP credentials to reuse: provider_auth `CHAP <user> <pass>` gives [user, pass]. Cinder re-reads
   * the row from the DB here; the manager refreshes provider_auth from the DB before create_export.
   * Returns null when there is nothing to reuse (a new user/password are generated then).
   */
  getTargetChapAuth(volume: TargetVolume): string[] | null {
    if (!volume.provider_auth) return null;
    const creds = pySplit(volume.provider_auth, ' ', 3).slice(1);
    return creds.length > 0 ? creds : null;
  }

  /** Portal addresses: target_ip_address plus iscsi_secondary_ip_addresses, on target_port. */
  getPortalsConfig(): Required<PortalsConfig> {
    return {
      portals_ips: [this.config.target_ip_address, ...(this.config.iscsi_secondary_ip_addresses ?? [])],
      portals_port: this.config.target_port,
    };
  }

  /** provider_location text: `<ip>:<port>[;<ip2>:<port>],<target> <iqn> <lun>`, IPv6 bracketed. */
  iscsiLocation(ip: string, target: string | number, iqn: string, lun: number | null = null, ipSecondary: readonly string[] = []): string {
    const port = this.config.target_port;
    const portals = [ip, ...ipSecondary].map((x) => `${sanitizeHost(x)}:${port}`).join(';');
    return `${portals},${target} ${iqn} ${lun === null ? 'None' : lun}`;
  }

  iscsiAuthentication(chap: string, name: string, password: string): string {
    return `${chap} ${name} ${password}`;
  }

  async createExport(volume: TargetVolume, volumePath: string): Promise<IscsiExport> {
    const iscsiName = this.iscsiName(volume);
    const [iscsiTarget, lun] = this.getTargetAndLun(volume);
    let chapAuth = this.getTargetChapAuth(volume);
    if (!chapAuth) chapAuth = [generateUsername(), generatePassword()];
    const portals = this.getPortalsConfig();
    const tid = await this.createIscsiTarget(iscsiName, iscsiTarget, lun, volumePath, chapAuth, portals);
    const location = this.iscsiLocation(
      this.config.target_ip_address,
      tid,
      iscsiName,
      lun,
      this.config.iscsi_secondary_ip_addresses ?? [],
    );
    this.logger.debug({ volume_id: volume.id, provider_location: location }, 'Set provider_location');
    // create_export unpacks exactly (user, password) when it formats the auth string.
    const [user, password] = pyUnpack(chapAuth, 2);
    return { location, auth: this.iscsiAuthentication('CHAP', user, password) };
  }

  async showTarget(_tid: number, iqn: string | null): Promise<void> {
    if (iqn === null) throw new Error('valid iqn needed for show_target');
    const tid = await this.getTarget(iqn);
    if (tid === null) throw new NotFound();
  }

  /**
   * Remove the target of `volume`. Returns silently when provider_location is NULL or has no IQN
   * field, when the IQN is not among the targets, or when listing the targets fails.
   */
  async removeExport(volume: TargetVolume): Promise<void> {
    const [iscsiTarget, lun] = this.getTargetAndLun(volume);
    try {
      const iqn = pyIndex(pySplit(volume.provider_location, ' '), 1);
      await this.showTarget(iscsiTarget, iqn);
    } catch {
      this.logger.info(
        { volume_id: volume.id },
        `Skipping remove_export. No iscsi_target is presently exported for volume: ${volume.id}`,
      );
      return;
    }
    await this.removeIscsiTarget(iscsiTarget, lun, volume.id, volumeName(volume));
  }

  /** Generic re-export (tgt-style helpers); LioAdm overrides it with its restore logic. */
  async ensureExport(volume: TargetVolume, volumePath: string): Promise<void> {
    const chapAuth = this.getTargetChapAuth(volume);
    const [iscsiTarget, lun] = this.getTargetAndLun(volume);
    await this.createIscsiTarget(this.iscsiName(volume), iscsiTarget, lun, volumePath, chapAuth, this.getPortalsConfig());
  }

  async initializeConnection(volume: TargetVolume, connector: unknown): Promise<ConnectionInfo> {
    const multipath = pyDictGet(connector, 'multipath');
    const data = await this.getIscsiProperties(volume, pyTruthy(multipath));
    return { driver_volume_type: this.iscsiProtocol, data };
  }

  /**
   * iscsi.py extend_target: re-initialize the target of an attached volume after the LV grew
   * (_do_tgt_update(iqn, force=True)). Only tgtadm does anything there; for LIO, whose block
   * backstore follows the device's size, it is ISCSITarget's no-op, so nothing runs.
   */
  async extendTarget(volume: TargetVolume & Pick<Volume, 'volume_attachment'>): Promise<void> {
    if (volume.volume_attachment.length > 0) await this.doTgtUpdate(this.iscsiName(volume), true);
  }

  /** ISCSITarget._do_tgt_update: nothing (only TgtAdm overrides it). */
  protected async doTgtUpdate(_name: string, _force = false): Promise<void> {}

  async terminateConnection(_volume: TargetVolume, _connector: unknown): Promise<void> {
    /* the base target keeps no per-initiator state */
  }

  validateConnector(connector: unknown): true {
    if (!pyContains(connector, 'initiator')) {
      this.logger.error('The volume driver requires the iSCSI initiator name in the connector.');
      throw new InvalidConnectorException({ missing: 'initiator' });
    }
    return true;
  }

  /**
   * Connection properties from provider_location / provider_auth / provider_geometry
   * (`_get_iscsi_properties`); falls back to sendtargets discovery when provider_location is empty.
   */
  async getIscsiProperties(volume: TargetVolume, multipath = false): Promise<Record<string, unknown>> {
    const properties: Record<string, unknown> = {};
    let location = volume.provider_location;
    if (location) {
      properties.target_discovered = false;
    } else {
      location = await this.doIscsiDiscovery(volume);
      if (!location) {
        throw new InvalidVolume({ reason: `Could not find iSCSI export for volume ${volumeName(volume)}` });
      }
      this.logger.debug({ volume_id: volume.id, location }, 'ISCSI Discovery: Found location');
      properties.target_discovered = true;
    }

    const results = location.split(' ');
    const portals = results[0].split(',')[0].split(';');
    const iqn = pyIndex(results, 1);
    const nrPortals = portals.length;
    const lun = (results.length > 2 ? pyInt(results[2]) : undefined) ?? 0;

    if (nrPortals > 1 || multipath) {
      properties.target_portals = portals;
      properties.target_iqns = portals.map(() => iqn);
      properties.target_luns = portals.map(() => lun);
    }
    properties.target_portal = portals[0];
    properties.target_iqn = iqn;
    properties.target_lun = lun;
    properties.volume_id = volume.id;

    const auth = volume.provider_auth;
    if (auth) {
      const [authMethod, authUsername, authSecret] = pyUnpack(pySplitWs(auth), 3);
      properties.auth_method = authMethod;
      properties.auth_username = authUsername;
      properties.auth_password = authSecret;
    }

    const geometry = volume.provider_geometry;
    if (geometry) {
      const [physical, logical] = pyUnpack(pySplitWs(geometry), 2);
      properties.physical_block_size = physical;
      properties.logical_block_size = logical;
    }

    properties.encrypted = volume.encryption_key_id !== null && volume.encryption_key_id !== undefined;
    return properties;
  }

  /** `iscsiadm -m discovery -t sendtargets -p <host>` (root); the line naming our ip and the volume. */
  async doIscsiDiscovery(volume: TargetVolume): Promise<string | null> {
    this.logger.warn({ volume_id: volume.id }, 'ISCSI provider_location not stored, using discovery');
    const host = pySplit(volume.host, '@')[0];
    let out: string;
    try {
      ({ stdout: out } = await this.executor.execute(['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', host], {
        runAsRoot: true,
      }));
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.error({ host, stderr: e.stderr }, `ISCSI discovery attempt failed for: ${host}`);
      return null;
    }
    for (const target of out.split(/\r\n|\r|\n/)) {
      if (target.includes(this.config.target_ip_address) && target.includes(volume.id)) return target;
    }
    return null;
  }
}
