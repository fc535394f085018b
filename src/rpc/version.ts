// oslo_messaging._utils.version_is_compatible: used for the envelope version ('2.0') and for RPC
// API versions (endpoint 3.18). Same major; requested minor <= implemented minor; when the minors
// are equal, requested revision <= implemented revision. So 3.18.1 is refused by a 3.18 endpoint
// while 3.5.7 is accepted.

function parts(v: string): [number, number, number] | null {
  const p = v.split('.');
  if (p.length < 2 || p.length > 3 || !p.every((x) => /^\d+$/.test(x))) return null;
  return [Number(p[0]), Number(p[1]), p.length === 3 ? Number(p[2]) : 0];
}

export function versionIsCompatible(implemented: string, requested: unknown): boolean {
  if (typeof requested !== 'string') return false;
  const r = parts(requested);
  const i = parts(implemented);
  if (!r || !i) return false;
  if (r[0] !== i[0]) return false;
  if (r[1] > i[1]) return false;
  if (r[1] === i[1] && r[2] > i[2]) return false;
  return true;
}

/** a >= b for 'X.Y' versions (used for version caps, like oslo's can_send_version). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = parts(a.split('.').length === 1 ? `${a}.0` : a);
  const pb = parts(b.split('.').length === 1 ? `${b}.0` : b);
  if (!pa || !pb) return false;
  for (let k = 0; k < 3; k++) if (pa[k] !== pb[k]) return pa[k] > pb[k];
  return true;
}
