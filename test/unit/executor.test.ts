import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ProcessExecutionError, ProcessSpawnError, formatCommand, redactText } from '../../src/common/executor.js';
import { ProcessExecutor, createBackendExecutor, shellQuote } from '../../src/common/executor-process.js';

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

describe('ProcessExecutor (real processes)', () => {
  it('runs an argv without a shell and captures stdout', async () => {
    const ex = new ProcessExecutor();
    const r = await ex.execute(['/bin/echo', 'a  b', '$HOME', '*']);
    expect(r).toEqual({ stdout: 'a  b $HOME *\n', stderr: '', exitCode: 0 });
  });

  it('captures stderr and accepts configured exit codes', async () => {
    const ex = new ProcessExecutor();
    const r = await ex.execute(['sh', '-c', 'echo out; echo err >&2; exit 3'], { checkExitCode: [0, 3] });
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  });

  it('raises ProcessExecutionError for a non-accepted exit code', async () => {
    const ex = new ProcessExecutor();
    const err = await ex.execute(['false']).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.exitCode).toBe(1);
    expect(err.cmd).toBe('false');
    expect(err.stdout).toBe('');
  });

  it('kills a command that exceeds its timeout and raises ProcessExecutionError', async () => {
    const ex = new ProcessExecutor({ defaultTimeoutMs: 60_000 });
    const err = await ex.execute(['sleep', '30'], { timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.exitCode).toBeNull();
    expect(err.message).toContain('timed out');
  });

  it('uses the default timeout when the call gives none', async () => {
    const ex = new ProcessExecutor({ defaultTimeoutMs: 200 });
    const err = await ex.execute(['sleep', '30']).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.message).toContain('timed out');
  });

  it('raises ProcessSpawnError (OSError) when the binary does not exist', async () => {
    const ex = new ProcessExecutor();
    const err = await ex.execute(['/nonexistent/cinder-rtstool', 'verify']).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessSpawnError);
    expect(err.code).toBe('ENOENT');
    expect(err.name).toBe('OSError');
  });

  it('prefixes the root helper (split on whitespace) only for runAsRoot', async () => {
    const ex = new ProcessExecutor({ rootHelper: '  env   ROOTED=yes ' });
    const rooted = await ex.execute(['sh', '-c', 'echo "${ROOTED:-no}"'], { runAsRoot: true });
    const plain = await ex.execute(['sh', '-c', 'echo "${ROOTED:-no}"']);
    expect(rooted.stdout).toBe('yes\n');
    expect(plain.stdout).toBe('no\n');
    expect(ex.buildArgv(['lvs', 'x'], { runAsRoot: true })).toEqual(['env', 'ROOTED=yes', 'lvs', 'x']);
  });

  it('passes extra environment locally', async () => {
    const ex = new ProcessExecutor();
    const r = await ex.execute(['sh', '-c', 'echo "$CINDER_X"'], { env: { CINDER_X: 'v' } });
    expect(r.stdout).toBe('v\n');
  });

  it('runs many commands concurrently', async () => {
    const ex = new ProcessExecutor();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => ex.execute(['/bin/echo', String(i)])));
    expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('collects large outputs on both pipes while other commands finish (vgs/lvs of a big volume group)', async () => {
    const ex = new ProcessExecutor();
    const big = ex.execute(['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; head -c 200000 /dev/zero | tr "\\0" b >&2']);
    const quick = await ex.execute(['/bin/echo', 'quick']);
    expect(quick.stdout).toBe('quick\n');
    const r = await big;
    expect(r.stdout.length).toBe(3_000_000);
    expect(r.stdout.replace(/a/g, '')).toBe('');
    expect(r.stderr.length).toBe(200_000);
  });

  it('decodes invalid UTF-8 with replacement characters, as Node decodes a buffer', async () => {
    const r = await new ProcessExecutor().execute(['printf', 'ok\\377\\n']);
    expect(r.stdout).toBe('ok\uFFFD\n');
  });
});

describe('the spawn helper (commands are forked by a small helper process, not the manager)', () => {
  it('starts commands from another process than the caller, and reuses it', async () => {
    const ex = new ProcessExecutor();
    const a = await ex.execute(['sh', '-c', 'echo $PPID']);
    const b = await ex.execute(['sh', '-c', 'echo $PPID']);
    expect(Number(a.stdout)).not.toBe(process.pid);
    expect(b.stdout).toBe(a.stdout);
    ex.close();
  });

  it('fails the commands in flight when the helper dies, and starts a new one for the next', async () => {
    const ex = new ProcessExecutor();
    const first = await ex.execute(['sh', '-c', 'echo $PPID']);
    const err = await ex.execute(['sh', '-c', 'kill -9 $PPID; sleep 5']).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.exitCode).toBeNull();
    expect(err.message).toContain('spawn helper exited (SIGKILL)');
    const again = await ex.execute(['sh', '-c', 'echo $PPID']);
    expect(again.stdout).not.toBe(first.stdout);
    ex.close();
  });

  it('an idle helper does not keep the calling process alive', () => {
    const script = [
      "import { ProcessExecutor } from './src/common/executor-process.ts';",
      "const r = await new ProcessExecutor().execute(['echo', 'ran']);",
      'console.log(r.stdout.trim());',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe('ran');
    expect(r.status).toBe(0);
  });
});

describe('secret masking', () => {
  it('redactText / formatCommand mask every occurrence', () => {
    expect(redactText('a SECRET b SECRETSECRET', ['SECRET'])).toBe('a *** b ******');
    expect(redactText('nothing', ['', 'x'])).toBe('nothing');
    expect(formatCommand(['rtstool', 'create', 'USER1', 'PASS1'], ['USER1', 'PASS1'])).toBe('rtstool create *** ***');
  });

  it('debug-logs every command with secrets masked', async () => {
    const { logger, text, lines } = captureLogger();
    const ex = new ProcessExecutor({ logger, rootHelper: 'env' });
    await ex.execute(['/bin/echo', 'add-initiator', 'iqn.x', 'chapuser1', 'chappass1'], {
      runAsRoot: true,
      redact: ['chapuser1', 'chappass1'],
    });
    expect(text()).not.toContain('chappass1');
    expect(text()).not.toContain('chapuser1');
    expect(lines.some((l) => l.cmd === 'env /bin/echo add-initiator iqn.x *** ***')).toBe(true);
  });

  it('masks secrets in ProcessExecutionError cmd, stdout and stderr', async () => {
    const { logger, text } = captureLogger();
    const ex = new ProcessExecutor({ logger });
    const err = await ex
      .execute(['sh', '-c', 'echo "$0 $1"; echo "$1" >&2; exit 2', 'usr9', 'pw9'], { redact: ['usr9', 'pw9'] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.cmd).not.toContain('pw9');
    expect(err.stdout).toBe('*** ***\n');
    expect(err.stderr).toBe('***\n');
    expect(err.message).not.toContain('pw9');
    expect(text()).not.toContain('pw9');
  });

  it('does not log at info level', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    await new ProcessExecutor({ logger }).execute(['true']);
    expect(lines).toEqual([]);
  });
});

describe('ssh mode', () => {
  const ssh = { host: 'storage1', user: 'root', port: 2222, controlPath: '/tmp/cm-%C' };

  it('shellQuote leaves safe words and quotes the rest', () => {
    expect(shellQuote('iqn.2010-10.org.openstack:volume-1')).toBe('iqn.2010-10.org.openstack:volume-1');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('activation { retry_deactivation = 1} ')).toBe("'activation { retry_deactivation = 1} '");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('a;b')).toBe("'a;b'");
  });

  it('builds the ControlMaster ssh argv with the root helper applied remotely', () => {
    const ex = new ProcessExecutor({ ssh: { ...ssh, privateKey: '/k/id' }, rootHelper: 'sudo' });
    expect(ex.buildArgv(['lvremove', '--config', 'activation { retry_deactivation = 1} ', '-f', 'vg/lv'], { runAsRoot: true })).toEqual([
      'ssh',
      '-o', 'ControlMaster=auto',
      '-o', 'ControlPath=/tmp/cm-%C',
      '-o', 'ControlPersist=60',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-p', '2222',
      '-i', '/k/id',
      'root@storage1',
      '--',
      "sudo lvremove --config 'activation { retry_deactivation = 1} ' -f vg/lv",
    ]);
  });

  it('omits -i without a key and the root helper for non-root commands', () => {
    const ex = new ProcessExecutor({ ssh, rootHelper: 'sudo' });
    const argv = ex.buildArgv(['cinder-rtstool', 'verify']);
    expect(argv).not.toContain('-i');
    expect(argv.at(-1)).toBe('cinder-rtstool verify');
  });

  it('passes env through env(1) after the root helper', () => {
    const ex = new ProcessExecutor({ ssh, rootHelper: 'sudo' });
    expect(ex.buildArgv(['lvs'], { runAsRoot: true, env: { LC_ALL: 'C' } }).at(-1)).toBe('sudo env LC_ALL=C lvs');
  });

  it('the quoted command line survives a remote shell unchanged', () => {
    const ex = new ProcessExecutor({ ssh });
    const args = ['a b', "it's", '$HOME', '', '*', 'x"y', 'back\\slash', 'tab\there', 'new\nline', '-p3260', '-a10.0.0.1,[::1]'];
    const line = ex.buildArgv(['printf', '%s\\n', ...args]).at(-1)!;
    const r = spawnSync('sh', ['-c', line], { encoding: 'utf8' });
    expect(r.stdout).toBe(args.map((a) => `${a}\n`).join(''));
  });

  it('createBackendExecutor picks ssh from ssh_host and the timeout from command_timeout', () => {
    const local = createBackendExecutor({ ssh_user: 'root', ssh_port: 22, command_timeout: 5 }, { root_helper: 'sudo' });
    expect(local.buildArgv(['x'], { runAsRoot: true })).toEqual(['sudo', 'x']);
    const remote = createBackendExecutor(
      { ssh_host: 'h', ssh_user: 'u', ssh_port: 22, command_timeout: 5 },
      { root_helper: '' },
      { controlPath: '/tmp/c' },
    );
    expect(remote.buildArgv(['x'], { runAsRoot: true })).toContain('u@h');
  });

  it('without command_timeout a command may run as long as it needs (Cinder sets none); with it, it is killed', async () => {
    const unlimited = createBackendExecutor({ ssh_user: 'root', ssh_port: 22 }, { root_helper: '' });
    expect((await unlimited.execute(['sleep', '1.2'])).exitCode).toBe(0);
    const limited = createBackendExecutor({ ssh_user: 'root', ssh_port: 22, command_timeout: 1 }, { root_helper: '' });
    const err = await limited.execute(['sleep', '5']).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect(err.message).toContain('timed out after 1000 ms');
  });
});
