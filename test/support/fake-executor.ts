// A recording fake of the command executor — the one seam unit tests may fake — with a tiny
// LVM/rtstool model so driver and manager code sees plausible answers.
import type { CommandExecutor, ExecResult, ExecuteOptions } from '../../src/common/executor.js';
import { ProcessExecutionError } from '../../src/common/executor.js';

export type Reply = Partial<ExecResult> | Error | undefined;
export class FakeExecutor implements CommandExecutor {
  calls: { argv: string[]; opts: ExecuteOptions }[] = [];
  /** LV name -> lvdisplay attr. */
  lvs = new Map<string, string>();
  targets = new Set<string>();
  vgExists = true;
  devices = new Set<string>();
  /** argv prefix (joined) -> how many times to fail, and the error. */
  failures: { prefix: string; times: number; error: () => Error }[] = [];

  fail(prefix: string, times = Infinity, exitCode = 1, stderr = 'boom'): void {
    this.failures.push({ prefix, times, error: () => new ProcessExecutionError(prefix, exitCode, '', stderr) });
  }

  /** Called with each command before it is answered, to look at the world as the command sees it. */
  onCall?: (argv: string[]) => void;

  async execute(argv: readonly string[], opts: ExecuteOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], opts });
    this.onCall?.([...argv]);
    const r = this.reply([...argv]);
    if (r instanceof Error) throw r;
    return { stdout: r?.stdout ?? '', stderr: r?.stderr ?? '', exitCode: r?.exitCode ?? 0 };
  }

  private reply(argv: string[]): Reply {
    const line = argv.join(' ');
    for (const f of this.failures) {
      if (f.times > 0 && (line === f.prefix || line.startsWith(`${f.prefix} `))) {
        f.times--;
        return f.error();
      }
    }
    // `env VAR=value … cmd` (brick LVM's prefix): the command is the first word that is no assignment.
    const cmd = argv[0] === 'env' ? (argv.slice(1).find((a) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) ?? '') : argv[0];
    const last = argv[argv.length - 1];
    const lvOf = (t: string) => t.slice(t.indexOf('/') + 1);
    switch (cmd) {
      case 'vgs':
        if (!this.vgExists) return { stdout: '' };
        return argv.includes('name') ? { stdout: '  cinder-volumes\n' } : { stdout: '  cinder-volumes:1000.00:1000.00:0:uuid-1\n' };
      case 'pvs':
        return { stdout: '  cinder-volumes|/dev/sdb|1000.00|1000.00\n' };
      case 'lvs':
        if (last.includes('/')) {
          const lv = lvOf(last);
          if (!this.lvs.has(lv)) return new ProcessExecutionError(line, 5, '', `  Failed to find logical volume "${last}"`);
          return { stdout: `  cinder-volumes ${lv} 1.00\n` };
        }
        return { stdout: [...this.lvs.keys()].map((n) => `  cinder-volumes ${n} 1.00\n`).join('') };
      case 'lvcreate': {
        const n = argv.indexOf('-n');
        this.lvs.set(n >= 0 ? argv[n + 1] : lvOf(last), '-wi-a-----');
        return undefined;
      }
      case 'lvdisplay':
        return { stdout: `  ${this.lvs.get(lvOf(last))}\n` };
      case 'lvremove':
        this.lvs.delete(lvOf(last));
        return undefined;
      case 'test':
        return { exitCode: this.devices.has(last) ? 0 : 1 };
      case 'cinder-rtstool':
        if (argv[1] === 'create') this.targets.add(argv[3]);
        if (argv[1] === 'delete') this.targets.delete(argv[2]);
        if (argv[1] === 'get-targets') return { stdout: [...this.targets].map((t) => `${t}\n`).join('') };
        return undefined;
      default:
        return undefined;
    }
  }

  lines(from = 0): string[] {
    return this.calls.slice(from).map((c) => c.argv.join(' '));
  }
}
