// Summarises a V8 .cpuprofile (a service run with CINDER_TS_NODE_FLAGS='--cpu-prof
// --cpu-prof-dir=DIR', written when the process exits): self and total milliseconds by package
// (node_modules/<pkg>, our dist|src/<dir>, node internals) and by function. "Total" counts a
// function or package once per sample however often it is on the stack.
//   npx tsx bench/cpuprofile.ts DIR/CPU.….cpuprofile [top=40]
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: bench/cpuprofile.ts FILE.cpuprofile [top]');
const top = Number(process.argv[3] ?? 40);
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// A sample's time is the delta to the next sample.
const selfById = new Map<number, number>();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]) / 1000;
  selfById.set(p.samples[i], (selfById.get(p.samples[i]) ?? 0) + ms);
  total += ms;
}

function pkg(url: string): string {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const s = /\/(?:dist|src)\/([^/]+)\//.exec(url);
  if (s) return `ours:${s[1]}`;
  return url.startsWith('node:') ? 'node:internal' : url;
}
const fnKey = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/(dist|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const selfFn = new Map<string, number>(), selfPkg = new Map<string, number>();
const totFn = new Map<string, number>(), totPkg = new Map<string, number>();
for (const [id, ms] of selfById) {
  const n = nodes.get(id)!;
  add(selfFn, fnKey(n), ms);
  add(selfPkg, pkg(n.callFrame.url), ms);
  const fns = new Set<string>(), pkgs = new Set<string>();
  for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
    const cn = nodes.get(c)!;
    fns.add(fnKey(cn));
    pkgs.add(pkg(cn.callFrame.url));
  }
  for (const k of fns) add(totFn, k, ms);
  for (const k of pkgs) add(totPkg, k, ms);
}

function show(title: string, m: Map<string, number>, n: number): void {
  console.log(`\n== ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${v.toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}
console.log(`${file}: ${total.toFixed(0)} ms sampled, ${(selfFn.get('(idle) :0') ?? 0).toFixed(0)} ms idle`);
show('self by package', selfPkg, 25);
show('total by package', totPkg, 25);
show('self by function', selfFn, top);
show('total by function', totFn, top);
