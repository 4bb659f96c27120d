import http from 'node:http';
import type { Socket } from 'node:net';

/**
 * What Node's HTTP parser refuses before a route sees the request (headers over its 16 KiB
 * limit, a malformed request line, a request that took too long) answers as an OAuth error like
 * every other refusal (DESIGN §10): `invalid_request` JSON with `Cache-Control: no-store`, not
 * the framework's own error shape. The connection is then closed, as Node does.
 */
export function oauthClientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, description] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long']
        : [400, 'malformed request'];
  answerAndClose(socket, status, description);
  socket.destroy(error);
}

/** What the gateway serves: the `Allow` of a 405. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';

/**
 * A CONNECT request (a proxy tunnel) never reaches the framework: Node hands it to the server's
 * `connect` listeners and, without one, drops the connection unanswered. The gateway is no
 * proxy: 405 `invalid_request`, as every other refusal, and the connection closed.
 */
export function refuseConnect(_request: http.IncomingMessage, socket: Socket): void {
  if (socket.destroyed) return;
  answerAndClose(socket, 405, 'the CONNECT method is not served', [`Allow: ${ALLOWED_METHODS}`]);
  socket.destroy();
}

function answerAndClose(socket: Socket, status: number, description: string, extraHeaders: string[] = []): void {
  const body = JSON.stringify({ error: 'invalid_request', error_description: description });
  if (socket.writable) {
    socket.write(
      [
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        ...extraHeaders,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
}
