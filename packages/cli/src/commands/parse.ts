/**
 * `bounce-guard parse <file|dir|mbox>... [--json]`: parse bounce messages (DSNs, provider notices,
 * feedback reports, auto-replies) and print one line per recipient, in file order. A directory is
 * walked recursively (files sorted by name); an mbox file (first line `From `) yields every message.
 * A file that is not a bounce prints one entry with `kind: "not-a-bounce"`. A progress bar goes to
 * standard error when there are more than `PARSE_PROGRESS_THRESHOLD` files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isMbox, parseBounceMessage, parseMbox, type BounceReport } from '@bounce-guard/core'
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { CliError, action } from '../lib/errors.js'
import { formatTable } from '../lib/table.js'

/** More files than this get a progress bar on stderr. */
export const PARSE_PROGRESS_THRESHOLD = 300

/** One printed line of `parse --json`. */
export interface ParseLine {
  file: string
  kind: BounceReport['kind']
  recipient?: string
  status?: string
  code?: number
  reason?: string
  hard?: boolean
  scope?: string
  ruleId?: string
  diagnosticCode?: string
  feedbackType?: string
}

/** Expand the arguments into files, in order: a directory gives its files recursively, sorted. */
export function collectFiles(paths: readonly string[]): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    let st: ReturnType<typeof statSync>
    try {
      st = statSync(p)
    } catch (err) {
      throw new CliError(`cannot read ${p}: ${(err as Error).message}`, 4, { cause: err })
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith('.')) continue
        walk(join(p, name))
      }
    } else if (st.isFile()) {
      out.push(p)
    }
  }
  for (const p of paths) walk(p)
  return out
}

/** The lines for one file's reports. */
export function linesFor(file: string, reports: readonly BounceReport[]): ParseLine[] {
  const out: ParseLine[] = []
  for (const r of reports) {
    if (r.recipients.length === 0) {
      out.push({ file, kind: r.kind === 'not-a-bounce' ? 'not-a-bounce' : r.kind })
      continue
    }
    for (const rc of r.recipients) {
      const c = rc.classification
      const line: ParseLine = { file, kind: r.kind, recipient: rc.recipient }
      const status = rc.status ?? c.enhancedStatus
      if (status) line.status = status
      if (c.code !== undefined) line.code = c.code
      line.reason = c.reason
      line.hard = c.hard
      line.scope = c.scope
      line.ruleId = c.ruleId
      if (rc.diagnosticCode) line.diagnosticCode = rc.diagnosticCode
      if (rc.feedbackType) line.feedbackType = rc.feedbackType
      out.push(line)
    }
  }
  return out
}

async function parseFile(file: string): Promise<BounceReport[]> {
  let raw: Buffer
  try {
    raw = readFileSync(file)
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 4, { cause: err })
  }
  if (isMbox(raw)) {
    const reports = await parseMbox(raw)
    return reports.length > 0 ? reports : [{ kind: 'not-a-bounce', recipients: [] }]
  }
  return [await parseBounceMessage(raw)]
}

/** Register `parse`. */
export function register(program: Command): void {
  program
    .command('parse')
    .description('parse bounce messages (files, directories or mbox files) and classify every recipient')
    .argument('<paths...>', 'message files, directories of them, or mbox files')
    .option('--json', 'print one JSON object per recipient (JSON Lines)', false)
    .option('--no-progress', 'never show a progress bar')
    .action(
      action(async (paths: string[], opts: { json: boolean; progress: boolean }) => {
        const files = collectFiles(paths)
        const showBar = opts.progress && files.length > PARSE_PROGRESS_THRESHOLD
        const bar = showBar
          ? new cliProgress.SingleBar(
              { stream: process.stderr, format: 'parse [{bar}] {value}/{total} files', noTTYOutput: true, notTTYSchedule: 1000 },
              cliProgress.Presets.shades_classic,
            )
          : undefined
        bar?.start(files.length, 0)
        const table: ParseLine[] = []
        let n = 0
        for (const file of files) {
          const lines = linesFor(file, await parseFile(file))
          if (opts.json) process.stdout.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
          else table.push(...lines)
          bar?.update(++n)
        }
        bar?.stop()
        if (!opts.json) {
          process.stdout.write(
            formatTable(table, [
              { header: 'file', value: (r) => r.file },
              { header: 'kind', value: (r) => r.kind },
              { header: 'recipient', value: (r) => r.recipient, maxWidth: 40 },
              { header: 'status', value: (r) => r.status },
              { header: 'code', value: (r) => r.code },
              { header: 'reason', value: (r) => r.reason },
              { header: 'hard', value: (r) => (r.hard === undefined ? undefined : r.hard ? 'yes' : 'no') },
              { header: 'scope', value: (r) => r.scope },
              { header: 'rule', value: (r) => r.ruleId, maxWidth: 32 },
              { header: 'diagnostic', value: (r) => r.diagnosticCode, maxWidth: 60 },
            ]),
          )
        }
        return 0
      }),
    )
}
