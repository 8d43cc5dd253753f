/**
 * The labelled review sets under test/fixtures (bounces-review and bounces-review/real): their
 * labels, and the parser's accuracy over them counted the way `pnpm eval` counts it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { parseBounceMessage } from '../../src/index.js'

export interface LabelRecipient {
  recipient: string
  status: string
  replycode: string
  reason: string
  hardbounce: boolean
}

export interface Label {
  file: string
  module: string
  kind: string
  recipients: LabelRecipient[]
  /** Where the notice was quoted (bounces-review/real only). */
  source?: string
  note?: string
}

/** The labels.jsonl of a review folder. */
export function readLabels(dir: string): Label[] {
  return readFileSync(join(dir, 'labels.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Label)
}

export interface ReviewAccuracy {
  /** Labelled recipients. */
  n: number
  reason: number
  hard: number
  recipient: number
}

/** The parser over every labelled file: the share of recipients with the right reason, hard and address. */
export async function reviewAccuracy(dir: string, labels: readonly Label[]): Promise<ReviewAccuracy> {
  let n = 0
  let reasonOk = 0
  let hardOk = 0
  let rcptOk = 0
  for (const label of labels) {
    const report = await parseBounceMessage(readFileSync(join(dir, label.file)))
    for (const [i, want] of label.recipients.entries()) {
      const got = report.recipients[i]
      n++
      if (got?.classification.reason === want.reason) reasonOk++
      if ((got?.classification.hard ?? false) === want.hardbounce) hardOk++
      if ((got?.recipient ?? '').toLowerCase() === want.recipient.toLowerCase()) rcptOk++
    }
  }
  return { n, reason: reasonOk / n, hard: hardOk / n, recipient: rcptOk / n }
}

/** The parser reads `label.file` exactly as labelled: kind, and each recipient's address, reason and hard. */
export async function expectReadAsLabelled(dir: string, label: Label): Promise<void> {
  const report = await parseBounceMessage(readFileSync(join(dir, label.file)))
  expect(report.kind).toBe(label.kind)
  expect(report.recipients).toHaveLength(label.recipients.length)
  for (const [i, want] of label.recipients.entries()) {
    const got = report.recipients[i]!
    expect(got.recipient.toLowerCase()).toBe(want.recipient.toLowerCase())
    expect(got.classification.reason).toBe(want.reason)
    expect(got.classification.hard).toBe(want.hardbounce)
  }
}
