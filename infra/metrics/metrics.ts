import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { lagSeconds } from '../followers/follower.js';
import { runningFollowers } from '../followers/registry.js';

/**
 * The process's Prometheus metrics (served at /metrics). One registry per process; the names
 * follow Prometheus conventions (`_total`, `_seconds`).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequests = new Counter({
  name: 'idp_http_requests_total',
  help: 'HTTP requests answered by the gateway',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'idp_http_request_duration_seconds',
  help: 'HTTP request latency at the gateway',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const busHandled = new Counter({
  name: 'idp_bus_requests_total',
  help: 'Bus requests handled by this service, by subject and outcome (ok or the OAuth error code)',
  labelNames: ['subject', 'outcome'] as const,
  registers: [registry],
});

export const busDuration = new Histogram({
  name: 'idp_bus_request_duration_seconds',
  help: 'Time to handle one bus request',
  labelNames: ['subject'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const eventsAppended = new Counter({
  name: 'idp_events_appended_total',
  help: 'Events appended to the log by this process',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const sqliteCommits = new Counter({
  name: 'idp_sqlite_commits_total',
  help: 'Write transactions the SQLite log committed (group commit: one for all the appends of a turn of the event loop, so one fsync)',
  registers: [registry],
});

export const sqliteGroupedAppends = new Counter({
  name: 'idp_sqlite_grouped_appends_total',
  help: 'Appends in those transactions, failed ones included (divided by idp_sqlite_commits_total: appends per commit)',
  registers: [registry],
});

export const appendConflicts = new Counter({
  name: 'idp_append_conflicts_total',
  help: 'Appends that lost a race on the expected version and were retried',
  registers: [registry],
});

const STATE_CODES = { starting: 0, catching_up: 1, live: 2, retrying: 3, failed: 4, standby: 5, stopped: 6 } as const;

export const followerState = new Gauge({
  name: 'idp_follower_state',
  help: `State of each log follower (projectors, the event relay): ${Object.entries(STATE_CODES).map(([k, v]) => `${v} ${k}`).join(', ')}`,
  labelNames: ['follower'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const follower of runningFollowers()) this.set({ follower: follower.name }, STATE_CODES[follower.status().state]);
  },
});

export const followerPosition = new Gauge({
  name: 'idp_follower_position',
  help: 'Last $all position a log follower applied',
  labelNames: ['follower'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const follower of runningFollowers()) this.set({ follower: follower.name }, follower.status().position);
  },
});

export const followerLag = new Gauge({
  name: 'idp_follower_lag_seconds',
  help: 'Age of the oldest event a log follower has not applied yet (0: caught up), measured against the log at scrape time',
  labelNames: ['follower'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await Promise.all(
      runningFollowers().map(async (follower) => {
        const lag = await lagSeconds(follower).catch(() => Number.NaN);
        this.set({ follower: follower.name }, lag);
      }),
    );
  },
});

export const followerFailures = new Counter({
  name: 'idp_follower_failures_total',
  help: 'Failures met by a log follower: target (its target or the log failed; it retries), checkpoint_lost (its target lost state; it rebuilds), poison (an event it cannot apply; it stops)',
  labelNames: ['follower', 'kind'] as const,
  registers: [registry],
});

export const passwordVerifications = new Counter({
  name: 'idp_password_verifications_total',
  help: 'argon2id password verifications run by this process (decoys for unknown usernames included)',
  registers: [registry],
});

export const passwordHashes = new Counter({
  name: 'idp_password_hashes_total',
  help: 'argon2id password hashes made by this process: registrations, and rehashes of hashes with outdated parameters at login',
  registers: [registry],
});
