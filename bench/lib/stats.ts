// Percentiles and plain-text tables for the benchmarks' reports.

/** Nearest-rank percentile (p in 0..100); NaN for no samples. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A number for a table cell; '-' when there is none (no samples). */
export function num(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** p50/p95/p99 as cells. */
export function p3(xs: number[], digits = 1): [string, string, string] {
  return [num(pct(xs, 50), digits), num(pct(xs, 95), digits), num(pct(xs, 99), digits)];
}

/** Left-aligned first column, right-aligned others, widths from the content. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(w[i]) : (c ?? '').padStart(w[i]))).join('  ');
  return all.map(line).join('\n');
}
