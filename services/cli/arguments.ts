import { CliError, EXIT } from './exit-codes.js';

/**
 * Parsers for command-line values shared by the commands. A malformed value is a usage error
 * (exit 2) that names the option.
 */

/** An ISO 8601 time with a zone (`2026-11-30T14:02:00Z`, `…+01:00`), as epoch ms. */
export function parseTime(text: string, option: string): number {
  const ms = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new CliError(EXIT.usage, `${option} must be an ISO 8601 time with a zone, e.g. 2026-11-30T14:02:00Z; got "${text}"`);
  return ms;
}

/** `*` matches any run of characters, everything else itself; no pattern matches every type. */
export function typeMatcher(pattern: string | undefined): (type: string) => boolean {
  if (pattern === undefined || pattern === '*') return () => true;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return (type) => regex.test(type);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
