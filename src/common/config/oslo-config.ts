// oslo.config's semantics as cinder-ts reads cinder.conf: the value types of the options
// (oslo_config/types.py Boolean, Integer, List, String), one section validated against its schema
// with the first bad option named, `$var` interpolation (oslo_config/cfg.py ConfigOpts._substitute)
// and oslo.config's own section parser (oslo_config/iniparser.py BaseParser) for the sections whose
// values the `ini` package would cut. Every other module under src/common/config/ builds on these.
import { z } from 'zod';

export const bool = z
  .union([z.boolean(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected a boolean, got '${v}'` });
    return z.NEVER;
  });
export const int = (min?: number, max?: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : Number(v.trim());
    if (!Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message: `expected an integer${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` <= ${max}` : ''}, got '${v}'` });
      return z.NEVER;
    }
    return n;
  });
export const list = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : v.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);

/** An unset or empty string option (oslo.config: `opt =` leaves it empty). */
export const optStr = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A bad or missing option; the processes print its one line (`config error: [section] option: …`) and exit. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One section through its schema; the first issue becomes the ConfigError naming its option. */
export function sectionOf<T extends z.ZodTypeAny>(schema: T, raw: unknown, section: string): z.infer<T> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const opt = issue.path.join('.') || '?';
  throw new ConfigError(`config error: [${section}] ${opt}: ${issue.message}`);
}

/** `$state_path`-style interpolation, as oslo.config does for string options. */
export function interpolate(v: string, vars: Record<string, string>): string {
  return v.replace(/\$\{?(\w+)\}?/g, (m, k: string) => vars[k] ?? m);
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
