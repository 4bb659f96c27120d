import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';
import { sendRaw } from '../support/fuzz/raw-http.js';
import { FUZZ_ENV } from '../support/fuzz/fuzz-world.js';

/**
 * What the fuzz suite found, each pinned by the one request that showed it, against the
 * embedded server: the fuzzer's seeds may change, these requests do not.
 */
let server: EmbeddedProcess;
beforeAll(async () => {
  server = await startEmbeddedProcess({ env: FUZZ_ENV });
}, 60_000);
afterAll(async () => {
  await server?.stop();
}, 30_000);

describe('requests the fuzzer found unanswered or answered with a 5xx', () => {
  test('CONNECT (a proxy tunnel request) is answered 405 invalid_request, not dropped unanswered', async () => {
    for (const target of ['127.0.0.1:443', 'http://127.0.0.1/jwks', '/token']) {
      const response = await sendRaw(server.port, { method: 'CONNECT', target, headers: [] });
      expect({ target, status: response.status }).toEqual({ target, status: 405 });
      expect(response.headers['allow']).toBe('GET, HEAD, POST, PUT, DELETE, OPTIONS');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(response.body)).toEqual({ error: 'invalid_request', error_description: 'the CONNECT method is not served' });
    }
    // The server goes on answering.
    expect((await sendRaw(server.port, { method: 'GET', target: '/healthz', headers: [] })).status).toBe(200);
  });
});
