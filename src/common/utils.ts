// Helpers of cinder/utils.py that shape Cinder's messages.

/** utils.build_or_str: 'a or b or c' for a tuple, the value itself for a string. */
export function buildOrStr(v: string | readonly string[], fmt?: string): string {
  const s = typeof v === 'string' ? v : v.join(' or ');
  return fmt ? fmt.replace('%s', s) : s;
}
