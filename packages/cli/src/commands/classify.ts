/**
 * `bounce-guard classify [replies...] [--json] [--recipient-domain d] [--remote-mta host]`:
 * classify SMTP replies. Each argument is one reply (it may hold a multi-line reply); with no
 * arguments, each non-empty line of standard input is one reply. `--json` prints one JSON object
 * per input, in input order (JSON Lines), with the input and every field of the classification
 * and of the parsed reply; otherwise an aligned table.
 */
import { classifyReply, parseSmtpReply, type BounceClassification, type ClassifyContext } from '@bounce-guard/core'
import type { Command } from 'commander'
import { action } from '../lib/errors.js'
import { formatTable } from '../lib/table.js'

/** One printed line of `classify --json`. */
export interface ClassifyLine extends BounceClassification {
  /** The reply as given. */
  input: string
  /** The reply text with codes removed and continuation lines joined. */
  text: string
}

/** Classify one input the way the command prints it. */
export function classifyLine(input: string, context: ClassifyContext = {}): ClassifyLine {
  const reply = parseSmtpReply(input)
  const c = classifyReply(reply, context)
  const line: ClassifyLine = { input, text: reply.text, ...c }
  if (reply.code !== undefined) line.code = reply.code
  if (reply.enhancedStatus !== undefined) line.enhancedStatus = reply.enhancedStatus
  return line
}

async function readStdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return []
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
}

/** Register `classify`. */
export function register(program: Command): void {
  program
    .command('classify')
    .description('classify SMTP replies (arguments, or one reply per line of standard input)')
    .argument('[replies...]', 'replies to classify; each argument may hold a multi-line reply')
    .option('--json', 'print one JSON object per reply (JSON Lines)', false)
    .option('--recipient-domain <domain>', 'the recipient domain, to attribute the provider')
    .option('--remote-mta <host>', 'the remote MX host that answered, to attribute the provider')
    .action(
      action(async (replies: string[], opts: { json: boolean; recipientDomain?: string; remoteMta?: string }) => {
        const inputs = replies.length > 0 ? replies : await readStdinLines()
        const context: ClassifyContext = {}
        if (opts.recipientDomain) context.recipientDomain = opts.recipientDomain
        if (opts.remoteMta) context.remoteMta = opts.remoteMta
        const lines = inputs.map((i) => classifyLine(i, context))
        if (opts.json) {
          if (lines.length > 0) process.stdout.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
          return 0
        }
        process.stdout.write(
          formatTable(lines, [
            { header: 'code', value: (r) => r.code },
            { header: 'status', value: (r) => r.enhancedStatus },
            { header: 'reason', value: (r) => r.reason },
            { header: 'hard', value: (r) => (r.hard ? 'yes' : 'no') },
            { header: 'perm', value: (r) => (r.permanent ? 'yes' : 'no') },
            { header: 'scope', value: (r) => r.scope },
            { header: 'provider', value: (r) => r.provider },
            { header: 'rule', value: (r) => r.ruleId, maxWidth: 34 },
            { header: 'reply', value: (r) => r.text, maxWidth: 70 },
          ]),
        )
        return 0
      }),
    )
}
