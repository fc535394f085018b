// What the HTTP server does with bytes it cannot parse as a request (Node's 'clientError').
//
// Fastify's default writes its 400 at once and destroys the socket. On a keep-alive connection
// that also throws away the answers of the requests before the bad bytes that are still being
// worked on: a pipelined `DELETE /volumes/{id}` followed by garbage deleted the volume and its
// client never learnt it. eventlet.wsgi, which serves Cinder, answers requests in order and only
// then the unparsable one, and closes. So do we: wait until every response already queued on the
// socket has been written, then send the error and close.
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

// eventlet.wsgi's own answers (HttpProtocol.handle_one_request): no body, the connection closed.
const STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '400 Headers Too Large',
  HPE_INVALID_CONTENT_LENGTH: '400 Bad Request',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** The response Node is currently writing on this socket (its next pipelined one follows it). */
function inFlight(socket: Socket): ServerResponse | null {
  const m = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return m && !m.writableFinished && !m.destroyed ? m : null;
}

function errorResponse(err: NodeJS.ErrnoException): string {
  return `HTTP/1.1 ${STATUS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const drain = (): void => {
    if (socket.destroyed) return;
    const res = inFlight(socket);
    if (res) {
      // 'finish' hands the socket to the next queued response synchronously; look again after it.
      let fired = false;
      const next = () => {
        if (fired) return;
        fired = true;
        setImmediate(drain);
      };
      res.once('finish', next);
      res.once('close', next);
      return;
    }
    if (socket.writable) socket.end(errorResponse(err));
    else socket.destroy(err);
  };
  drain();
}
