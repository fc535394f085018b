// oslo_utils.strutils.mask_dict_password / mask_password, as the notification LogDriver applies
// them: a value under a secret-looking key becomes '***', a string has `key: value` / `key=value`
// / `"key": "value"` secrets masked. oslo leaves lists alone; this port masks inside them too
// (an attachment's connection_info carries the CHAP password, which this port never logs).

// strutils._SANITIZE_KEYS (lower case; a key matches when one of them is a substring of it).
const SANITIZE_KEYS = [
  'adminpass', 'admin_pass', 'password', 'admin_password', 'auth_token', 'new_pass', 'auth_password', 'secret_uuid',
  'secret', 'sys_pswd', 'token', 'configdrive', 'chappassword', 'encrypted_key', 'private_key', 'fernetkey', 'sslkey',
  'passphrase', 'cephclusterfsid', 'octaviaheartbeatkey', 'rabbitcookie', 'cephmanilaclientkey',
  'pacemakerremoteauthkey', 'designaterndckey', 'cephadminkey', 'heatauthencryptionkey', 'cephclientkey',
  'keystonecredential', 'barbicanmasterkey', 'barbicansimplecryptokek',
];

const secretKey = (k: string) => {
  const l = k.toLowerCase();
  return SANITIZE_KEYS.some((s) => l.includes(s));
};

/** mask_password on a string: `"<key>": "<v>"`, `'<key>': '<v>'`, `<key>=<v>` and `<key>: <v>` forms. */
export function maskPassword(s: string, secret = '***'): string {
  const l = s.toLowerCase();
  if (!SANITIZE_KEYS.some((k) => l.includes(k))) return s;
  let out = s;
  for (const k of SANITIZE_KEYS) {
    if (!l.includes(k)) continue;
    const key = `[\\w-]*${k}[\\w-]*`;
    out = out
      .replace(new RegExp(`(["']${key}["']\\s*:\\s*)(["'])(?:\\\\.|(?!\\2).)*\\2`, 'gi'), `$1$2${secret}$2`)
      .replace(new RegExp(`(\\\\["']${key}\\\\["']\\s*:\\s*\\\\["'])(?:(?!\\\\["']).)*(\\\\["'])`, 'gi'), `$1${secret}$2`)
      .replace(new RegExp(`(\\b${key}\\s*=\\s*)(["']?)[^\\s"',&]+\\2`, 'gi'), `$1$2${secret}$2`);
  }
  return out;
}

export function maskDictPassword(v: unknown, secret = '***'): unknown {
  if (typeof v === 'string') return maskPassword(v, secret);
  if (Array.isArray(v)) return v.map((x) => maskDictPassword(x, secret));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[k] = secretKey(k) && (typeof x === 'string' || typeof x === 'number') ? secret : maskDictPassword(x, secret);
  }
  return out;
}
