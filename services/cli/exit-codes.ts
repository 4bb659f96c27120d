/**
 * What `idp` exits with (README, "Audit and administration"). Scripts may rely on these: a
 * verification that found a break is not the same failure as a store that cannot be reached.
 */
export const EXIT = {
  /** Done, and nothing wrong was found. */
  ok: 0,
  /** The command ran and found something wrong: a broken chain, a rebuild that differs. */
  failed: 1,
  /** The command line itself is wrong: unknown command or option, a malformed value. */
  usage: 2,
  /** What the command names does not exist: no such user, client, grant or token. */
  notFound: 3,
  /** The owning service refused the command (its OAuth error is printed). */
  refused: 4,
  /** The store or the bus could not be reached, or did not answer in time. */
  unavailable: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that knows the exit code it stands for; its message is printed on stderr. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}
