import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerArchive } from './archive.js';
import { registerAsOf } from './as-of.js';
import { registerAudit } from './audit.js';
import { registerClients } from './clients.js';
import { registerExport } from './export.js';
import { registerKeys } from './keys.js';
import { registerRebuild } from './rebuild.js';
import { registerTail } from './tail.js';
import { registerUsers } from './users.js';
import { registerVerify } from './verify.js';

/**
 * Each command group of `idp` registers itself on the program: one file per group under
 * services/cli/commands/, one line here. A new command is a new file and a new line.
 */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

export const COMMAND_GROUPS: CommandGroup[] = [
  registerExport,
  registerKeys,
  registerAudit,
  registerAsOf,
  registerTail,
  registerVerify,
  registerArchive,
  registerUsers,
  registerClients,
  registerRebuild,
];
