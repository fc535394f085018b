// Sending one fuzzed request as it is (repeated headers, raw body bytes, chunked or not) and the
// curl command that replays it.
import http from 'node:http';
import type { Req, Res } from './types.js';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function send(port: number, r: Req, timeoutMs = 30000): Promise<Res> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of r.headers) {
      const cur = headers[k];
      if (cur === undefined) headers[k] = v;
      else headers[k] = Array.isArray(cur) ? [...cur, v] : [cur, v];
    }
    if (r.body !== null && !r.chunked) headers['Content-Length'] = String(r.body.length);
    let done = false;
    const finish = (x: Res) => {
      if (!done) {
        done = true;
        resolve(x);
      }
    };
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => finish({ status: 'error', headers: {}, body: '' }));
      });
    } catch (e) {
      finish({ status: 'error', headers: {}, body: String(e) });
      return;
    }
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      finish({ status: 'timeout', headers: {}, body: '' });
    });
    req.on('error', (e) => finish({ status: 'error', headers: {}, body: String(e) }));
    if (r.body !== null) req.end(r.body);
    else req.end();
  });
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function reproducer(r: Req): string {
  const parts = ['curl -si', '-X', r.method];
  for (const [k, v] of r.headers) parts.push('-H', shq(`${k}: ${v.length > 200 ? `${v.slice(0, 40)}…(${v.length} chars)` : v}`));
  if (r.chunked) parts.push('-H', shq('Transfer-Encoding: chunked'));
  let pre = '';
  if (r.body !== null) {
    const txt = r.body.toString('utf8');
    if (r.body.length <= 2000 && Buffer.from(txt, 'utf8').equals(r.body) && !/[\x00-\x08\x0b-\x1f']/.test(txt)) {
      parts.push('--data-binary', shq(txt));
    } else {
      pre = `printf %s ${shq(r.body.length <= 3000 ? r.body.toString('base64') : `<${r.body.length}-byte body, starts ${r.body.subarray(0, 60).toString('base64')}>`)} | base64 -d | `;
      parts.push('--data-binary', '@-');
    }
  }
  parts.push(shq(`http://127.0.0.1:$PORT${r.path}`));
  return pre + parts.join(' ');
}

