import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliContext } from './context.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Where a secret the operator types comes from: never the command line (it would sit in the
 * shell's history and in `ps`), but stdin (`--password-stdin`, for scripts: `printf %s "$PW" |
 * idp user create alice --password-stdin`) or, on a terminal, a prompt that does not echo.
 */
export interface SecretInput {
  /** Whether stdin is a terminal (a person can be asked). */
  isTTY: boolean;
  /** Everything on stdin, as text. */
  readAll(): Promise<string>;
  /** Asks on the terminal without echoing what is typed. */
  promptHidden(prompt: string): Promise<string>;
}

/** The process's own stdin, as `idp` uses it. */
export function processSecretInput(): SecretInput {
  return {
    isTTY: process.stdin.isTTY === true,
    async readAll() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
    promptHidden(prompt) {
      process.stderr.write(prompt);
      // Nothing typed is echoed: the readline writes into a sink that drops it.
      const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
      const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
      return new Promise((resolve) => {
        rl.question('', (answer) => {
          rl.close();
          process.stderr.write('\n');
          resolve(answer);
        });
      });
    },
  };
}

/**
 * The password for `user create` / `user set-password`: with `--password-stdin` all of stdin
 * (one trailing newline dropped, as `echo` adds it); else, on a terminal, asked twice without
 * echo; else a usage error. An empty password is refused.
 */
export async function readNewPassword(ctx: CliContext, fromStdin: boolean | undefined): Promise<string> {
  const input = ctx.secretInput;
  if (!input) throw new CliError(EXIT.usage, 'no way to read a password here: give it on stdin with --password-stdin');
  let password: string;
  if (fromStdin) {
    password = (await input.readAll()).replace(/\r?\n$/, '');
  } else if (input.isTTY) {
    password = await input.promptHidden('New password: ');
    const again = await input.promptHidden('Repeat it: ');
    if (again !== password) throw new CliError(EXIT.usage, 'the two passwords differ: nothing was changed');
  } else {
    throw new CliError(EXIT.usage, 'stdin is not a terminal: give the password on stdin with --password-stdin (never on the command line)');
  }
  if (password.length === 0) throw new CliError(EXIT.usage, 'the password is empty: nothing was changed');
  if (password.length > 1024) throw new CliError(EXIT.usage, 'the password is longer than 1024 characters: nothing was changed');
  return password;
}
