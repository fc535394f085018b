// Answers that come from webob itself rather than from Cinder's fault machinery: the router's 404
// for an unknown path/method (routes.Mapper finds no match, so there is no JSON fault), and
// oslo.middleware's 413 size limit. webob picks the body format from the Accept header.
// Also Accept negotiation for Cinder's own responses (Request.best_match_content_type).

export const SUPPORTED_CONTENT_TYPES = ['application/json', 'application/vnd.openstack.volume+json'] as const;

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** webob's Accept parsing; null means an invalid header (treated like "accept anything"). */
function parseAccept(header: string): MediaRange[] | null {
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const [range, ...params] = p.split(';');
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(range.trim());
    if (!m) return null;
    let q = 1;
    for (const param of params) {
      const [k, v] = param.split('=').map((s) => s.trim());
      if (k.toLowerCase() === 'q') {
        q = Number(v);
        if (!Number.isFinite(q) || q < 0 || q > 1) return null;
      }
    }
    out.push({ type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), q });
  }
  return out;
}

/** Accept.acceptable_offers(offers): offers with q > 0, best first (ties keep offer order). */
export function acceptableOffers(header: string | undefined, offers: readonly string[]): string[] {
  if (header === undefined) return [...offers];
  const ranges = parseAccept(header);
  if (ranges === null) return [...offers];
  const scored: { offer: string; q: number; i: number }[] = [];
  offers.forEach((offer, i) => {
    const [t, s] = offer.split('/');
    let best: { spec: number; q: number } | null = null;
    for (const r of ranges) {
      let spec = -1;
      if (r.type === t && r.subtype === s) spec = 2;
      else if (r.type === t && r.subtype === '*') spec = 1;
      else if (r.type === '*' && r.subtype === '*') spec = 0;
      if (spec >= 0 && (best === null || spec > best.spec)) best = { spec, q: r.q };
    }
    if (best && best.q > 0) scored.push({ offer, q: best.q, i });
  });
  scored.sort((a, b) => b.q - a.q || a.i - b.i);
  return scored.map((x) => x.offer);
}

/** Request.best_match_content_type(): the response Content-Type of a successful call. */
export function bestMatchContentType(accept: string | undefined): string {
  if (accept === undefined || accept === 'application/json') return 'application/json';
  return acceptableOffers(accept, SUPPORTED_CONTENT_TYPES)[0] ?? 'application/json';
}

export interface PlainResponse {
  status: number;
  contentType: string;
  body: string;
}

const TITLES: Record<number, string> = { 404: 'Not Found', 413: 'Request Entity Too Large' };

/** A webob HTTPException rendered by webob (generate_response): html, json or plain text. */
export function webobErrorResponse(
  status: number,
  explanation: string,
  accept: string | undefined,
  isHead: boolean,
): PlainResponse {
  const title = TITLES[status] ?? 'Error';
  const statusLine = `${status} ${title}`;
  if (isHead) return { status, contentType: 'text/html; charset=UTF-8', body: '' };
  // No Accept header at all: webob sees '' and matches nothing, so plain text.
  const match = acceptableOffers(accept ?? '', ['text/html', 'application/json'])[0];
  if (match === 'text/html') {
    return {
      status,
      contentType: 'text/html; charset=UTF-8',
      body:
        `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n` +
        `  ${explanation}<br /><br />\n\n\n\n </body>\n</html>`,
    };
  }
  if (match === 'application/json') {
    return {
      status,
      contentType: 'application/json',
      body:
        `{"message": ${JSON.stringify(`${explanation}<br /><br />\n\n\n`)}, ` +
        `"code": ${JSON.stringify(statusLine)}, "title": ${JSON.stringify(title)}}`,
    };
  }
  return { status, contentType: 'text/plain; charset=UTF-8', body: `${statusLine}\n\n${explanation}\n\n   ` };
}
