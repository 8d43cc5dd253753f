/** Events for the SQLite hot-path and worker tests. */
import type { BounceEvent } from '@bounce-guard/core'

/** A `delivered` SMTP event of `recipient` at `at` (its domain taken from the address), with `extra` over it. */
export function deliveredEvent(recipient: string, at: Date, extra: Partial<BounceEvent> = {}): BounceEvent {
  return {
    recipient,
    domain: recipient.slice(recipient.indexOf('@') + 1),
    type: 'delivered',
    at,
    source: 'smtp',
    ...extra,
  }
}
