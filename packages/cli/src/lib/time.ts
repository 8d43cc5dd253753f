/**
 * Time options: `--since 7d`, `--until 2024-05-01`, `--expires 30d`. A relative duration counts back
 * from (or forward to) `now`; anything else must be an ISO 8601 date or date-time.
 */
import { BounceGuardError } from '@bounce-guard/core'

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
}

/** Milliseconds of a duration like `90s`, `15m`, `12h`, `7d`, `2w`; `undefined` if it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})\s?([smhdw])$/i.exec(text.trim())
  if (!m) return undefined
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!
}

/** Parse an ISO 8601 date (`2024-05-01`) or date-time; `undefined` if it is not one. */
export function parseIsoDate(text: string): Date | undefined {
  const t = text.trim()
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(t)) return undefined
  const d = new Date(t.length === 10 ? `${t}T00:00:00Z` : t.replace(' ', 'T'))
  return Number.isNaN(d.getTime()) ? undefined : d
}

/**
 * A point in time from an option value: a duration counts back from `now` (`7d` = seven days ago),
 * or an ISO date. Throws `EINVALID_OPTION` (exit code 2) otherwise.
 */
export function parsePointInTime(option: string, text: string, now: Date, direction: 'past' | 'future' = 'past'): Date {
  const ms = parseDuration(text)
  if (ms !== undefined) return new Date(now.getTime() + (direction === 'past' ? -ms : ms))
  const d = parseIsoDate(text)
  if (d) return d
  throw new BounceGuardError(
    'EINVALID_OPTION',
    `@bounce-guard/cli: ${option} ${JSON.stringify(text)} is neither a duration (7d, 12h, 30m, 2w) nor an ISO date (2024-05-01)`,
  )
}
