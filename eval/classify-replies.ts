/**
 * `pnpm eval:replies [fixtures.jsonl | --review] [--quiet]`: classifies every labelled reply text of
 * packages/core/test/fixtures/replies.jsonl (or, with `--review`, of the independent review set
 * replies-review.jsonl) (`{ text, reason, hard }` per line, labels written
 * from what each real reply means, independently of the classifier) and prints the accuracy of
 * the reason and of `hard`, per reason, with the misses.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { classifyReply } from '@bounce-guard/core'

interface Fixture {
  text: string
  reason: string
  hard: boolean
  scope?: string
}

const args = process.argv.slice(2)
const quiet = args.includes('--quiet')
const file =
  args.find((a) => !a.startsWith('--')) ??
  fileURLToPath(
    new URL(`../packages/core/test/fixtures/${args.includes('--review') ? 'replies-review' : 'replies'}.jsonl`, import.meta.url),
  )
const fixtures = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Fixture)

const per = new Map<string, { n: number; ok: number; hardOk: number }>()
const misses: string[] = []
let ok = 0
let hardOk = 0
let falseHard = 0
let missedHard = 0
let scoped = 0
const scopeMisses: string[] = []
for (const f of fixtures) {
  const c = classifyReply(f.text)
  const row = per.get(f.reason) ?? { n: 0, ok: 0, hardOk: 0 }
  row.n++
  if (c.reason === f.reason) {
    row.ok++
    ok++
  } else
    misses.push(`  ${f.reason.padEnd(15)} got ${c.reason.padEnd(15)} ${c.ruleId.padEnd(28)} ${f.text.replace(/\s+/g, ' ').slice(0, 90)}`)
  if (c.hard === f.hard) {
    row.hardOk++
    hardOk++
  } else {
    if (c.hard) falseHard++
    else missedHard++
    misses.push(
      `  ${(f.hard ? 'HARD' : 'SOFT').padEnd(15)} got ${(c.hard ? 'hard' : 'soft').padEnd(15)} ${c.ruleId.padEnd(28)} ${f.text.replace(/\s+/g, ' ').slice(0, 90)}`,
    )
  }
  if (f.scope !== undefined) {
    scoped++
    if (c.scope !== f.scope && c.reason === f.reason)
      scopeMisses.push(`  ${f.reason.padEnd(15)} scope ${f.scope} got ${c.scope} ${c.ruleId} ${f.text.replace(/\s+/g, ' ').slice(0, 70)}`)
  }
  per.set(f.reason, row)
}
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`
console.log(
  `replies: ${fixtures.length}  reason accuracy: ${pct(ok, fixtures.length)}  hard accuracy: ${pct(hardOk, fixtures.length)}  false hard: ${falseHard}  missed hard: ${missedHard}`,
)
console.log(`${'reason'.padEnd(16)}${'n'.padStart(4)}${'reason ok'.padStart(11)}${'hard ok'.padStart(9)}`)
for (const [reason, r] of [...per].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))) {
  console.log(`${reason.padEnd(16)}${String(r.n).padStart(4)}${pct(r.ok, r.n).padStart(11)}${pct(r.hardOk, r.n).padStart(9)}`)
}
if (!quiet && misses.length > 0) console.log(`misses:\n${misses.join('\n')}`)
if (scoped > 0)
  console.log(
    `scope differs (right reason) on ${scopeMisses.length} of ${scoped} labelled${quiet || scopeMisses.length === 0 ? '' : `:\n${scopeMisses.join('\n')}`}`,
  )
