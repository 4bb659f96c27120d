import { request } from 'node:http';

export interface ResponseFrom {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTP request sent from a chosen local address, so a test can play a reverse proxy and a
 * client connecting directly on one machine: on Linux every 127.0.0.0/8 address is this host.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ResponseFrom> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', localAddress, headers: options.headers ?? {}, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
