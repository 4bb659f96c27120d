/**
 * A dependency of a service (the log, the projections, the data keys) could not be reached or
 * did not answer in time. Nothing is wrong with the request: the edge answers
 * `temporarily_unavailable` (503 with Retry-After) and the client may try again. Each adapter
 * throws a subclass for its own failures of that kind, and only for those.
 */
export class DependencyUnavailableError extends Error {
  override readonly name: string = 'DependencyUnavailableError';
}
