import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

export const appendConflicts = new Counter({
  name: 'idp_append_conflicts_total',
  help: 'Appends that lost a race on the expected version and were retried',
  registers: [registry],
});

export const projectionPosition = new Gauge({
  name: 'idp_projection_position',
  help: 'Last $all position applied by a projector',
  labelNames: ['projector'] as const,
  registers: [registry],
});

export const projectionLag = new Gauge({
  name: 'idp_projection_lag_seconds',
  help: 'Age of the last event a projector applied, when it applied it',
  labelNames: ['projector'] as const,
  registers: [registry],
});
