// The test VM booted by scripts/real-target/vm-start.sh, as a test sees it: its forwarded ports,
// commands run inside it over ssh (out-of-band checks, and tampering for the idempotence cases),
// and host-side iSCSI logins with libiscsi's iscsi-inq through the forwarded iSCSI port.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { shellQuote } from '../../src/common/executor-process.js';

export interface Vm {
  runDir: string;
  sshPort: number;
  iscsiPort: number;
  sshKey: string;
  /** slirp's guest address: LIO listens there and Cinder advertises it as the portal. */
  guestIp: string;
  /** The VM's own open-iscsi initiator name. */
  guestInitiator: string;
}

function load(): Vm | null {
  const file = process.env.CINDER_TS_VM_ENV;
  if (!file || !fs.existsSync(file)) return null;
  const kv: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    runDir: kv.VM_RUN_DIR,
    sshPort: Number(kv.VM_SSH_PORT),
    iscsiPort: Number(kv.VM_ISCSI_PORT),
    sshKey: kv.VM_SSH_KEY,
    guestIp: kv.VM_GUEST_IP,
    guestInitiator: kv.VM_GUEST_INITIATOR,
  };
}

/** null when no VM was booted (a direct `vitest --config test/real-target/vitest.config.ts` without run.sh): the files skip. */
export const vm = load();
export const SKIP_REASON = 'no test VM (CINDER_TS_VM_ENV unset): run scripts/real-target/run.sh';

export function theVm(): Vm {
  if (!vm) throw new Error(SKIP_REASON);
  return vm;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Run argv in the VM as root over ssh. A ControlMaster of its own (not the manager's) so test
 * checks add no key exchange (~1 s under TCG) per call. Every word is shell-quoted: ssh hands the
 * remote side one command string.
 */
export function vmRun(argv: string[], timeoutMs = 120_000): Promise<RunResult> {
  const v = theVm();
  return run(
    'ssh',
    [
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${v.runDir}/t-%C`,
      '-o', 'ControlPersist=120',
      '-i', v.sshKey,
      '-p', String(v.sshPort),
      'root@127.0.0.1',
      '--',
      argv.map(shellQuote).join(' '),
    ],
    timeoutMs,
  );
}

/** vmRun that must succeed; returns stdout. */
export async function vmOk(argv: string[], timeoutMs?: number): Promise<string> {
  const r = await vmRun(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`in the VM: ${argv.join(' ')} -> exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** `cinder-rtstool get-targets`: the IQNs LIO has now. */
export async function lioTargets(): Promise<string[]> {
  return (await vmOk(['cinder-rtstool', 'get-targets'])).split('\n').filter(Boolean);
}

/** The initiators in the target's ACL, read from configfs (empty when the target is gone). */
export async function lioAcls(iqn: string): Promise<string[]> {
  const r = await vmRun(['ls', '-1', `/sys/kernel/config/target/iscsi/${iqn}/tpgt_1/acls`]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** The target IQNs in rtslib's saved configuration (Debian's path), what a reboot would restore. */
export async function savedTargets(): Promise<string[]> {
  const r = await vmRun(['cat', '/etc/rtslib-fb-target/saveconfig.json']);
  if (r.code !== 0) return [];
  const cfg = JSON.parse(r.stdout) as { targets?: { wwn: string }[] };
  return (cfg.targets ?? []).map((t) => t.wwn);
}

/** LV names in the cinder-volumes VG, as `lvs` shows them. */
export async function lvNames(): Promise<string[]> {
  const out = await vmOk(['lvs', '--noheadings', '-o', 'lv_name', 'cinder-volumes']);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * The portal Cinder returned (target_portal, i.e. what the connector's initiator dials: the
 * guest's address) mapped to the forwarded port this host reaches it through. Anything else
 * means the service advertised a portal the VM does not listen on.
 */
export function hostPortal(targetPortal: string): string {
  const v = theVm();
  if (targetPortal !== `${v.guestIp}:3260`) throw new Error(`unexpected target_portal ${targetPortal}`);
  return `127.0.0.1:${v.iscsiPort}`;
}

export interface LoginResult {
  ok: boolean;
  code: number;
  /** iscsi-inq's output (stdout + stderr), e.g. `... Status: Authorization failure(514)`. */
  output: string;
}

/**
 * One iSCSI login + INQUIRY from this host with libiscsi (iscsi-inq), as `initiator`, with CHAP,
 * through the forwarded port. Does not follow SendTargets (which would name 10.0.2.15).
 */
export async function iscsiLogin(o: { portal: string; iqn: string; initiator: string; user: string; password: string }): Promise<LoginResult> {
  const url = `iscsi://${encodeURIComponent(o.user)}%${encodeURIComponent(o.password)}@${hostPortal(o.portal)}/${o.iqn}/0`;
  const r = await run('iscsi-inq', ['-i', o.initiator, url], 60_000);
  return { ok: r.code === 0, code: r.code, output: `${r.stdout}${r.stderr}`.trim() };
}
