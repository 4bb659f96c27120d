import net from 'node:net';

/**
 * One HTTP/1.1 request written byte for byte on a fresh TCP connection (fetch and node:http
 * refuse what a fuzzer must send: bytes that are not UTF-8 in the target or a header, repeated
 * headers in any order, oversized heads), and the response read until the server closes.
 */
export interface RawRequest {
  method: string;
  /** The request target (a string holds its bytes as Latin-1): a path and query, possibly not UTF-8, possibly huge. */
  target: Buffer | string;
  /** Header lines in order, repeats allowed (values as Latin-1 strings); `Host`, `Content-Length` and `Connection` are added. */
  headers: Array<[string, Buffer | string]>;
  /** The body (a string holds its bytes as Latin-1). */
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How long one answer may take before the fuzzer calls it a hang. */
const ANSWER_TIMEOUT_MS = 15_000;

/** What a request looks like on the wire: shown with a failing counterexample. */
export function describeRequest(request: RawRequest): string {
  const shown = (value: Buffer | string, max = 300) => {
    const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
    return JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
  };
  const headers = request.headers.map(([name, value]) => `${name}: ${shown(value, 120)}`).join(', ');
  return `${request.method} ${shown(request.target)} [${headers}] body=${shown(request.body ?? '')}`;
}

function encodeRequest(port: number, request: RawRequest): Buffer {
  const bytes = (value: Buffer | string) => (Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'));
  const body = request.body === undefined ? Buffer.alloc(0) : bytes(request.body);
  const line = (text: string) => Buffer.from(`${text}\r\n`, 'latin1');
  const parts: Buffer[] = [Buffer.from(`${request.method} `, 'latin1'), bytes(request.target), line(' HTTP/1.1'), line(`Host: 127.0.0.1:${port}`)];
  for (const [name, value] of request.headers) parts.push(Buffer.from(`${name}: `, 'latin1'), bytes(value), line(''));
  if (request.body !== undefined) parts.push(line(`Content-Length: ${body.length}`));
  parts.push(line('Connection: close'), line(''), body);
  return Buffer.concat(parts);
}

export function sendRaw(port: number, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms to ${describeRequest(request)}`));
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may answer and close before it read a large request: a reset after an answer is fine.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      const response = parseResponse(Buffer.concat(chunks));
      if (response) resolve(response);
      else reject(new Error(`connection closed without an HTTP answer to ${describeRequest(request)}`));
    });
    // Written, not ended: Node's HTTP server drops a request whose client half-closes before the
    // answer (`httpAllowHalfOpen` is off). `Connection: close` makes the server close after it.
    socket.on('connect', () => socket.write(encodeRequest(port, request)));
  });
}

function parseResponse(bytes: Buffer): RawResponse | undefined {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1];
  if (status === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const header of headerLines) {
    const colon = header.indexOf(':');
    if (colon > 0) headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  return { status: Number(status), headers, body: bytes.subarray(end + 4).toString('utf8') };
}
