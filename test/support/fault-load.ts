import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, hiddenRid, type Page } from './browser.js';

/**
 * A steady, bounded load for fault tests: a few workers, each repeating one small scenario against
 * a gateway until stopped (or a fixed number of rounds), judging every single answer as it comes.
 *
 * Each answer is one of: a success; a 503 `temporarily_unavailable` with Retry-After (a dependency
 * is down, the client may retry); or a failure (any other status, a 500, no answer within
 * `deadlineMs`, a refused connection). Failures are collected with what was asked, for the test
 * to show; successful token responses are kept, so the test can find their events in the log.
 */
export interface LoadClient {
  clientId: string;
  clientSecret: string;
}

export interface LoadOptions {
  issuer: string;
  /** Machine clients (client_credentials, then introspection of the token): one worker each. */
  machines: LoadClient[];
  /** A code-flow client with this redirect URI and user: one worker. */
  codeFlow: { client: LoadClient; redirectUri: string; user: { username: string; password: string } };
  /** The client-side deadline of every request, well above the services' bus timeout. */
  deadlineMs: number;
  /** A worker stops by itself after this many rounds (a bound, in case nobody stops it). */
  maxRounds: number;
  /** Pause between two rounds of a worker: a steady load, not a flood. */
  pauseMs: number;
}

export interface Tally {
  ok: number;
  unavailable: number;
  failures: string[];
}

export interface RunningLoad {
  /** Counts so far (a copy). */
  tally(): Tally;
  /** Access tokens of every 200 token response so far. */
  readonly issued: string[];
  /** Lets every worker finish its round, then resolves with the final counts. */
  stop(): Promise<Tally>;
}

type Verdict = 'ok' | 'unavailable' | 'failed';

/** Ends a code-flow round early: its answer was judged already (a 503, or a counted failure). */
class RoundEnded extends Error {}

export function startLoad(options: LoadOptions): RunningLoad {
  const tally: Tally = { ok: 0, unavailable: 0, failures: [] };
  const issued: string[] = [];
  let stopping = false;

  /** Judges one answer; a 503 must carry the RFC code (when JSON) and Retry-After. */
  const judge = (what: string, status: number, headers: Headers, answer: string, expected: (status: number) => boolean): Verdict => {
    // An HTML page is shown by its title, JSON whole (both cut short).
    const body = (/<title>([^<]*)<\/title>/.exec(answer)?.[1] ?? answer).slice(0, 300);
    if (status === 503) {
      const retryAfter = headers.get('retry-after') ?? '';
      const json = (headers.get('content-type') ?? '').includes('json');
      const code = json ? (JSON.parse(answer) as { error?: string }).error : 'temporarily_unavailable';
      if (/^\d+$/.test(retryAfter) && code === 'temporarily_unavailable') {
        tally.unavailable++;
        return 'unavailable';
      }
      tally.failures.push(`${what}: 503 without temporarily_unavailable and Retry-After (${retryAfter}): ${body}`);
      return 'failed';
    }
    if (expected(status)) {
      tally.ok++;
      return 'ok';
    }
    tally.failures.push(`${what}: ${status} ${body}`);
    return 'failed';
  };

  /** One request with its deadline; a hang or a refused connection is a failure, never a retry. */
  const within = async <T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> => {
    const signal = AbortSignal.timeout(options.deadlineMs);
    try {
      return await work(signal);
    } catch (error) {
      const reason = signal.aborted ? `no answer within ${options.deadlineMs} ms` : String((error as Error).cause ?? error);
      tally.failures.push(`${what}: ${reason}`);
      return undefined;
    }
  };

  const post = async (what: string, path: string, client: LoadClient, form: Record<string, string>) =>
    within(what, async (signal) => {
      const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
      const response = await fetch(`${options.issuer}${path}`, {
        method: 'POST',
        signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: new URLSearchParams(form).toString(),
      });
      return { status: response.status, headers: response.headers, body: await response.text() };
    });

  /** A token request; on 200 keeps the access token. */
  const token = async (what: string, client: LoadClient, form: Record<string, string>): Promise<string | undefined> => {
    const answer = await post(what, '/token', client, form);
    if (!answer || judge(what, answer.status, answer.headers, answer.body, (s) => s === 200) !== 'ok') return undefined;
    const accessToken = (JSON.parse(answer.body) as { access_token: string }).access_token;
    issued.push(accessToken);
    return accessToken;
  };

  /** Introspection of a token this client was just given: active, or 503. */
  const introspect = async (what: string, client: LoadClient, accessToken: string) => {
    const answer = await post(what, '/introspect', client, { token: accessToken });
    if (!answer) return;
    const active = (s: number) => s === 200 && (JSON.parse(answer.body) as { active?: unknown }).active === true;
    judge(what, answer.status, answer.headers, answer.body, active);
  };

  const machineRound = async (client: LoadClient, round: number) => {
    const what = `machine ${client.clientId} round ${round}`;
    const accessToken = await token(`${what}: client_credentials`, client, { grant_type: 'client_credentials' });
    if (accessToken) await introspect(`${what}: introspection`, client, accessToken);
  };

  /** A browser page: the expected kind, or a 503; anything else fails the round. */
  const page = async (what: string, load: (browser: Browser) => Promise<Page>, browser: Browser, expected: (p: Page) => boolean) => {
    const answer = await within(what, () => Promise.race([load(browser), deadline(options.deadlineMs)]));
    if (!answer) throw new RoundEnded(); // counted as a failure by within()
    if (judge(what, answer.status, answer.headers, answer.body, () => expected(answer)) !== 'ok') throw new RoundEnded();
    return answer;
  };

  const codeFlowRound = async (round: number) => {
    const { client, redirectUri, user } = options.codeFlow;
    const what = `code flow round ${round}`;
    const browser = new Browser();
    const authorize = new URL('/authorize', options.issuer);
    authorize.search = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: redirectUri, scope: 'openid', state: `s${round}` }).toString();
    try {
      const login = await page(`${what}: authorize`, (b) => b.get(authorize), browser, (p) => p.kind === 'login');
      let next = await page(
        `${what}: login`,
        (b) => b.postForm(new URL('/authorize/login', options.issuer), { rid: hiddenRid(login.body), ...user }),
        browser,
        (p) => p.kind === 'consent' || p.kind === 'redirect',
      );
      if (next.kind === 'consent') {
        const consent = next;
        next = await page(`${what}: consent`, (b) => b.postForm(new URL('/authorize/consent', options.issuer), { rid: hiddenRid(consent.body), decision: 'allow' }), browser, (p) => p.kind === 'redirect');
      }
      const callback = new URL(next.location!, next.url);
      const code = callback.searchParams.get('code');
      if (!callback.href.startsWith(redirectUri) || code === null) {
        tally.failures.push(`${what}: the authorization response holds no code: ${callback.href}`);
        return;
      }
      const accessToken = await token(`${what}: redemption`, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
      if (accessToken) await introspect(`${what}: introspection`, client, accessToken);
    } catch (error) {
      if (!(error instanceof RoundEnded)) tally.failures.push(`${what}: ${String(error)}`);
    }
  };

  const worker = async (round: (n: number) => Promise<void>) => {
    for (let n = 1; n <= options.maxRounds && !stopping; n++) {
      await round(n);
      await sleep(options.pauseMs);
    }
  };

  const workers = [...options.machines.map((m) => worker((n) => machineRound(m, n))), worker(codeFlowRound)];
  const copy = (): Tally => ({ ...tally, failures: [...tally.failures] });
  return {
    tally: copy,
    issued,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      return copy();
    },
  };
}

/** Rejects after `ms` (for work that takes no AbortSignal, like the test browser's requests). */
function deadline(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref());
}
