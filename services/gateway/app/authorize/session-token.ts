/**
 * The shape of a session cookie's value, `<session id>.<secret>` (authn): a UUID and a base64url
 * secret. Anything else (an oversized or planted cookie) is no session, never an error: a broken
 * cookie must not turn every authorization into a failure.
 */
const SESSION_TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{16,128}$/;

export function wellFormedSessionToken(value: string): boolean {
  return value.length <= 200 && SESSION_TOKEN.test(value);
}
