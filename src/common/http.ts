// One HTTP request and its whole answer, for the OpenStack services cinder-ts talks to (Keystone,
// Nova): a small seam so the clients share one keep-alive agent per process and tests can see the
// exact requests.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request; rejects only when no HTTP answer came back (refused, reset, timeout, TLS). */
export type HttpRequester = (req: HttpRequest) => Promise<HttpResponse>;

/** node:http/https with keep-alive; `insecure` and `ca` as keystoneauth's session options. */
export function nodeRequester(opts: { insecure?: boolean; ca?: string | Buffer } = {}): HttpRequester {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 32,
    rejectUnauthorized: !opts.insecure,
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
  });
  return (req) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const u = new URL(req.url);
      const isHttps = u.protocol === 'https:';
      const r = (isHttps ? https : http).request(
        u,
        {
          method: req.method,
          headers: req.body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) },
          agent: isHttps ? httpsAgent : httpAgent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      if (req.timeoutMs !== undefined) {
        r.setTimeout(req.timeoutMs, () => r.destroy(new Error(`timed out after ${req.timeoutMs} ms`)));
      }
      r.on('error', reject);
      r.end(req.body);
    });
}

