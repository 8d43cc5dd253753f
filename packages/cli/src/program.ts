/**
 * The `bounce-guard` command line. Each command lives in its own file under `commands/` and
 * exports `register(program)`; this file only assembles them.
 */
import { Command } from 'commander'
import { register as registerClassify } from './commands/classify.js'
import { register as registerParse } from './commands/parse.js'
import { register as registerSuppressions } from './commands/suppressions.js'
import { register as registerReport, registerServe } from './commands/report.js'
import { register as registerMigrate } from './commands/migrate.js'
import { register as registerMaintain } from './commands/maintain.js'

/** Exit codes, documented in `--help`. */
export const EXIT_CODES = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATABASE: 3,
  INPUT: 4,
} as const

export function createProgram(): Command {
  const program = new Command('bounce-guard')
    .description('Classify SMTP replies, parse bounce messages and manage the suppression list.')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes:',
        '  0  success',
        '  1  unexpected failure',
        '  2  bad usage (unknown option, missing argument)',
        '  3  database error (bad --db URL, server unreachable)',
        '  4  bad input (unreadable file, malformed line); the rest of the input was still processed',
      ].join('\n'),
    )
    .exitOverride()
  registerClassify(program)
  registerParse(program)
  registerSuppressions(program)
  registerReport(program)
  registerServe(program)
  registerMigrate(program)
  registerMaintain(program)
  return program
}

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = createProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.OK
  } catch (err) {
    const e = err as { code?: string; exitCode?: number }
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : EXIT_CODES.USAGE
    }
    throw err
  }
}
