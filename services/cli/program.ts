import { Command, CommanderError } from 'commander';
import { OAuthError } from '../../contracts/oauth-error.js';
import { DependencyUnavailableError } from '../../infra/dependency-unavailable.js';
import { COMMAND_GROUPS } from './commands/index.js';
import type { CliContext } from './context.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';

/** The `idp` program: every command group, writing to the context's sinks instead of the process's. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('idp')
    .description('Administration, audit and integrity of the event-sourced IdP: the log is the source of truth.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
  for (const register of COMMAND_GROUPS) register(program, ctx);
  // Every subcommand reports through the same sinks and exits through runCli, not process.exit.
  const configure = (command: Command) => {
    command.exitOverride().configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * Runs `idp` with `argv` (without the node and script names) and returns its exit code
 * (exit-codes.ts); never calls process.exit, so tests run it in their own process.
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<ExitCode> {
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // A command that ran and found something wrong (a broken chain, a rebuild that differs) has
    // printed its report, then throws CliError(EXIT.failed, summary).
    return reportFailure(error, ctx);
  }
}

function reportFailure(error: unknown, ctx: CliContext): ExitCode {
  if (error instanceof CommanderError) {
    // --help and --version end "with an error" that is none; a command group without its
    // subcommand (`idp audit`) shows its help as an error (exit code 1 in commander): usage.
    if (error.code === 'commander.help' && error.exitCode !== 0) return EXIT.usage;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    ctx.stderr.write(`idp: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof OAuthError) {
    const unavailable = error.code === 'temporarily_unavailable';
    ctx.stderr.write(`idp: ${unavailable ? 'the owning service is unavailable' : 'refused'}: ${error.code}: ${error.description}\n`);
    return unavailable ? EXIT.unavailable : EXIT.refused;
  }
  if (error instanceof DependencyUnavailableError) {
    ctx.stderr.write(`idp: unavailable: ${error.message}\n`);
    return EXIT.unavailable;
  }
  ctx.stderr.write(`idp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.failed;
}
