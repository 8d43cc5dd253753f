/**
 * The file formats of `suppressions import` / `export`: one suppression a row, in CSV (snake_case
 * header) or JSON Lines (camelCase keys, like the `Suppression` type). Both directions validate:
 * a row that cannot become a `SuppressionInput` is rejected with a reason, never thrown.
 */
import {
  BOUNCE_REASONS,
  normalizeDomain,
  tryNormalizeAddress,
  type EventSource,
  type Suppression,
  type SuppressionReason,
  type SuppressionScope,
} from '@bounce-guard/core'
import { parseIsoDate } from './time.js'

/** The CSV columns, in the order `export` writes them. */
export const CSV_COLUMNS = [
  'key',
  'scope',
  'reason',
  'source',
  'created_at',
  'updated_at',
  'expires_at',
  'escalated',
  'rule_id',
  'detail',
] as const

/** Column name aliases accepted on import (lower-cased header -> canonical field). */
const ALIASES: Record<string, RowField> = {
  key: 'key',
  address: 'key',
  email: 'key',
  recipient: 'key',
  domain: 'key',
  scope: 'scope',
  type: 'scope',
  reason: 'reason',
  source: 'source',
  created_at: 'createdAt',
  createdat: 'createdAt',
  created: 'createdAt',
  updated_at: 'updatedAt',
  updatedat: 'updatedAt',
  expires_at: 'expiresAt',
  expiresat: 'expiresAt',
  expires: 'expiresAt',
  escalated: 'escalated',
  rule_id: 'ruleId',
  ruleid: 'ruleId',
  rule: 'ruleId',
  detail: 'detail',
  details: 'detail',
  note: 'detail',
  comment: 'detail',
}

type RowField = 'key' | 'scope' | 'reason' | 'source' | 'createdAt' | 'updatedAt' | 'expiresAt' | 'escalated' | 'ruleId' | 'detail'

/** A validated import row. */
export interface ImportRow {
  key: string
  scope: SuppressionScope
  reason: SuppressionReason
  source: EventSource
  createdAt?: Date
  expiresAt?: Date
  escalated?: boolean
  ruleId?: string
  detail?: string
}

/** Either a row or why it was rejected. */
export type RowResult = { ok: true; row: ImportRow } | { ok: false; error: string }

const REASONS = new Set<string>([...BOUNCE_REASONS, 'complaint', 'manual', 'unsubscribe'])
const SOURCES = new Set<string>(['smtp', 'dsn', 'webhook', 'feedback-loop', 'manual', 'call-time'])
const MAX_DETAIL = 2000

/**
 * Map a CSV header to fields. Returns `undefined` when the line is not a header (then the default
 * column order applies), or an error when it is a header without a key column.
 */
export function headerFields(
  fields: readonly string[],
): { fields: Array<RowField | undefined>; unknown: string[] } | { error: string } | undefined {
  const names = fields.map((f) =>
    f
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  )
  const mapped = names.map((n) => ALIASES[n] ?? ALIASES[n.replaceAll('_', '')])
  if (mapped.every((m) => m === undefined)) return undefined
  if (!mapped.includes('key')) return { error: 'the header has no key/address/email/domain column' }
  return { fields: mapped, unknown: names.filter((_, i) => mapped[i] === undefined) }
}

/** The default CSV column order when the file has no header. */
export const DEFAULT_FIELDS: RowField[] = [
  'key',
  'scope',
  'reason',
  'source',
  'createdAt',
  'updatedAt',
  'expiresAt',
  'escalated',
  'ruleId',
  'detail',
]

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim()
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

/** Validate one record given as field -> value (from a CSV line or a JSON object). */
export function toImportRow(
  values: Partial<Record<RowField, unknown>>,
  defaults: { reason: SuppressionReason; source: EventSource },
): RowResult {
  const rawKey = str(values.key)
  if (!rawKey) return { ok: false, error: 'the key (address or domain) is empty' }
  const scopeText = str(values.scope)?.toLowerCase()
  if (scopeText !== undefined && scopeText !== 'address' && scopeText !== 'domain')
    return { ok: false, error: `scope must be "address" or "domain", not ${JSON.stringify(scopeText)}` }
  const scope: SuppressionScope =
    (scopeText as SuppressionScope | undefined) ?? (rawKey.includes('@') && !rawKey.startsWith('@') ? 'address' : 'domain')
  const key = scope === 'address' ? tryNormalizeAddress(rawKey) : normalizeDomain(rawKey.replace(/^@/, ''))
  if (!key || (scope === 'domain' && (key.includes('@') || !key.includes('.')))) {
    return {
      ok: false,
      error: `${JSON.stringify(rawKey.slice(0, 200))} is not a valid ${scope === 'address' ? 'e-mail address' : 'domain'}`,
    }
  }
  const reasonText = str(values.reason)?.toLowerCase()
  if (reasonText !== undefined && !REASONS.has(reasonText))
    return { ok: false, error: `unknown reason ${JSON.stringify(reasonText.slice(0, 50))}` }
  const sourceText = str(values.source)?.toLowerCase()
  if (sourceText !== undefined && !SOURCES.has(sourceText))
    return { ok: false, error: `unknown source ${JSON.stringify(sourceText.slice(0, 50))}` }
  const row: ImportRow = {
    key,
    scope,
    reason: (reasonText as SuppressionReason | undefined) ?? defaults.reason,
    source: (sourceText as EventSource | undefined) ?? defaults.source,
  }
  for (const f of ['createdAt', 'expiresAt'] as const) {
    const t = str(values[f])
    if (t === undefined) continue
    const d = parseIsoDate(t)
    if (!d)
      return {
        ok: false,
        error: `${f === 'createdAt' ? 'created_at' : 'expires_at'} ${JSON.stringify(t.slice(0, 50))} is not an ISO 8601 date`,
      }
    row[f] = d
  }
  const esc = str(values.escalated)?.toLowerCase()
  if (esc !== undefined) {
    if (['true', '1', 'yes', 'y'].includes(esc)) row.escalated = true
    else if (['false', '0', 'no', 'n'].includes(esc)) row.escalated = false
    else return { ok: false, error: `escalated must be true or false, not ${JSON.stringify(esc.slice(0, 20))}` }
  }
  const ruleId = str(values.ruleId)
  if (ruleId) row.ruleId = ruleId.slice(0, 200)
  const detail = str(values.detail)
  if (detail) row.detail = detail.slice(0, MAX_DETAIL)
  return { ok: true, row }
}

/** Validate a CSV record with the given column mapping. */
export function csvToImportRow(
  fields: readonly string[],
  columns: ReadonlyArray<RowField | undefined>,
  defaults: { reason: SuppressionReason; source: EventSource },
): RowResult {
  if (fields.length > columns.length) return { ok: false, error: `${fields.length} columns, the header has ${columns.length}` }
  const values: Partial<Record<RowField, unknown>> = {}
  fields.forEach((v, i) => {
    const f = columns[i]
    if (f) values[f] = v
  })
  return toImportRow(values, defaults)
}

/** Validate a JSON Lines record. */
export function jsonToImportRow(line: string, defaults: { reason: SuppressionReason; source: EventSource }): RowResult {
  let obj: unknown
  try {
    obj = JSON.parse(line)
  } catch (err) {
    return { ok: false, error: `invalid JSON (${(err as Error).message})` }
  }
  if (typeof obj === 'string') obj = { key: obj }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    return { ok: false, error: 'a JSON line must be an object (or a string address)' }
  const values: Partial<Record<RowField, unknown>> = {}
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const f = ALIASES[k.toLowerCase()]
    if (f && values[f] === undefined) values[f] = v
  }
  return toImportRow(values, defaults)
}

/** A suppression as a CSV row in `CSV_COLUMNS` order. */
export function suppressionToCsv(s: Suppression): string[] {
  return [
    s.key,
    s.scope,
    s.reason,
    s.source,
    s.createdAt.toISOString(),
    s.updatedAt.toISOString(),
    s.expiresAt ? s.expiresAt.toISOString() : '',
    s.escalated ? 'true' : 'false',
    s.ruleId ?? '',
    s.detail ?? '',
  ]
}

/** A suppression as one JSON object (dates as ISO strings, absent fields left out). */
export function suppressionToJson(s: Suppression): Record<string, unknown> {
  const o: Record<string, unknown> = {
    key: s.key,
    scope: s.scope,
    reason: s.reason,
    source: s.source,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  }
  if (s.expiresAt) o.expiresAt = s.expiresAt.toISOString()
  if (s.escalated) o.escalated = true
  if (s.ruleId) o.ruleId = s.ruleId
  if (s.detail) o.detail = s.detail
  return o
}
