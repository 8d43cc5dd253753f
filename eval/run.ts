/**
 * `pnpm eval [corpus-dir] [--holdout] [--quiet]`: runs the bounce parser over a Sisimai-labelled
 * corpus and compares, recipient by recipient and in order, with its labels.jsonl.
 *
 * - corpus: first argument, else env BG_CORPUS, else ../shared/corpus/sisimai (from the repo root).
 * - `--holdout`: also split the files by a hash of their name into a 70 % "tune" part and a 30 %
 *   "check" part and print the figures of each; only the tune part's failures are listed, so the
 *   check part stays unseen while rules are written.
 * Prints reason accuracy, hard-bounce accuracy, a per-reason table and the files it gets wrong.
 */
import { createHash } from 'node:crypto'
import { readFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseBounceMessage, parseMbox, type BounceRecipient } from '@bounce-guard/core'

interface LabelRecipient {
  status: string
  replycode: string
  reason: string
  hardbounce: boolean
  feedbacktype?: string
  /** The failed recipient's address, when the labels carry it (compared case-insensitively). */
  recipient?: string
}
interface Label {
  file: string
  module: string
  kind: string
  messages?: number
  recipients: LabelRecipient[]
}

const args = process.argv.slice(2)
const flags = new Set(args.filter((a) => a.startsWith('--')))
const positional = args.filter((a) => !a.startsWith('--'))
const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const corpus = resolve(
  positional[0] ??
    process.env.BG_CORPUS ??
    (existsSync(join(root, '../shared/corpus/sisimai/labels.jsonl'))
      ? join(root, '../shared/corpus/sisimai')
      : join(root, 'test/fixtures/sisimai')),
)
const labels: Label[] = readFileSync(join(corpus, 'labels.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Label)

interface Row {
  file: string
  module: string
  part: 'tune' | 'check'
  expected: LabelRecipient
  got?: BounceRecipient
}
const rows: Row[] = []
const t0 = performance.now()
for (const label of labels) {
  const raw = readFileSync(join(corpus, label.file))
  const got: BounceRecipient[] = []
  if ((label.messages ?? 1) > 1) {
    for (const r of await parseMbox(raw)) got.push(...r.recipients)
  } else {
    got.push(...(await parseBounceMessage(raw)).recipients)
  }
  const h = createHash('sha256').update(label.file).digest()[0]!
  const part = h < 77 ? 'check' : 'tune'
  for (const [i, expected] of label.recipients.entries()) rows.push({ file: label.file, module: label.module, part, expected, got: got[i] })
}
const ms = performance.now() - t0

function figures(subset: Row[], title: string): void {
  const n = subset.length
  const reasonOk = subset.filter((r) => r.got?.classification.reason === r.expected.reason).length
  const hardOk = subset.filter((r) => (r.got?.classification.hard ?? false) === r.expected.hardbounce).length
  const withRcpt = subset.filter((r) => r.expected.recipient !== undefined)
  console.log(`${title}: ${n} recipients in ${new Set(subset.map((r) => r.file)).size} files`)
  console.log(`  reason accuracy      ${((100 * reasonOk) / n).toFixed(2)}% (${reasonOk}/${n})`)
  console.log(`  hard-bounce accuracy ${((100 * hardOk) / n).toFixed(2)}% (${hardOk}/${n})`)
  if (withRcpt.length > 0) {
    const ok = withRcpt.filter(rcptOk).length
    console.log(`  recipient accuracy   ${((100 * ok) / withRcpt.length).toFixed(2)}% (${ok}/${withRcpt.length})`)
  }
}

/** True when the label names no recipient or the parser found the same address (case-insensitive). */
function rcptOk(r: Row): boolean {
  return r.expected.recipient === undefined || r.expected.recipient.toLowerCase() === (r.got?.recipient ?? '').toLowerCase()
}

console.log(`corpus: ${corpus} (${labels.length} files, ${ms.toFixed(0)} ms)`)
figures(rows, 'all')
if (flags.has('--holdout')) {
  figures(
    rows.filter((r) => r.part === 'tune'),
    'tune (70%)',
  )
  figures(
    rows.filter((r) => r.part === 'check'),
    'check (30%, not looked at)',
  )
}

const byReason = new Map<string, { count: number; correct: number }>()
for (const r of rows) {
  const e = byReason.get(r.expected.reason) ?? { count: 0, correct: 0 }
  e.count++
  if (r.got?.classification.reason === r.expected.reason) e.correct++
  byReason.set(r.expected.reason, e)
}
console.log('\nreason            count  correct  accuracy')
for (const [reason, e] of [...byReason].sort((a, b) => b[1].count - a[1].count)) {
  console.log(
    `${reason.padEnd(16)} ${String(e.count).padStart(6)} ${String(e.correct).padStart(8)}  ${((100 * e.correct) / e.count).toFixed(1).padStart(7)}%`,
  )
}

if (!flags.has('--quiet')) {
  const wrong = rows.filter(
    (r) =>
      (r.got?.classification.reason !== r.expected.reason ||
        (r.got?.classification.hard ?? false) !== r.expected.hardbounce ||
        !rcptOk(r)) &&
      (!flags.has('--holdout') || r.part === 'tune'),
  )
  console.log(`\nwrong (${wrong.length})${flags.has('--holdout') ? ', tune part only' : ''}:`)
  for (const r of wrong) {
    const g = r.got
    const got = g
      ? `${g.classification.reason}${g.classification.hard ? ' hard' : ''} [${g.classification.ruleId}] ${g.status ?? '-'}`
      : 'no recipient'
    const rcpt = rcptOk(r) ? '' : ` (recipient ${g?.recipient || '-'}, expected ${r.expected.recipient})`
    const diag = g?.diagnosticCode ? ` | ${g.diagnosticCode.replace(/\s+/g, ' ').slice(0, 110)}` : ''
    console.log(
      `  ${r.file}: expected ${r.expected.reason}${r.expected.hardbounce ? ' hard' : ''} ${r.expected.status || '-'}, got ${got}${rcpt}${diag}`,
    )
  }
}
