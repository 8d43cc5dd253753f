/**
 * Streaming import and export of the suppression list. Import reads line by line (readline over a
 * file stream; the file is never held in memory), validates each record, looks up a batch of keys
 * in one `findSuppressions` call, and writes only what is new or changed, so importing the same file
 * twice changes nothing. Export pages through `listSuppressions` and respects back-pressure.
 */
import { once } from 'node:events'
import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import type { BounceStore, EventSource, Suppression, SuppressionFilter, SuppressionReason } from '@bounce-guard/core'
import { CliError } from './errors.js'
import { formatCsvRow, needsMoreLines, parseCsvRecord } from './csv.js'
import {
  CSV_COLUMNS,
  DEFAULT_FIELDS,
  csvToImportRow,
  headerFields,
  jsonToImportRow,
  suppressionToCsv,
  suppressionToJson,
  type ImportRow,
  type RowResult,
} from './suppression-rows.js'

/** File format of import/export. */
export type FileFormat = 'csv' | 'jsonl'

/** `csv` unless the file name ends in `.jsonl`, `.ndjson` or `.json`. */
export function formatFromName(name: string | undefined): FileFormat {
  return name && /\.(jsonl|ndjson|json)$/i.test(name) ? 'jsonl' : 'csv'
}

/** A rejected input record. */
export interface RejectedRow {
  /** 1-based physical line where the record starts. */
  line: number
  error: string
}

/** Outcome of an import. */
export interface ImportSummary {
  /** Records read (header and blank lines excluded). */
  rows: number
  /** Keys that were not suppressed before. */
  created: number
  /** Keys that were suppressed with other values (reason, expiry, ...) and were updated. */
  updated: number
  /** Keys already suppressed with the same values: nothing written. */
  unchanged: number
  /** Records whose `expires_at` has passed: not written. */
  expired: number
  rejected: RejectedRow[]
  /** Header columns that were ignored. */
  ignoredColumns: string[]
}

/** Options of `importSuppressions`. */
export interface ImportOptions {
  format: FileFormat
  /** Reason for rows without one. @default 'manual' */
  defaultReason?: SuppressionReason
  /** Source for rows without one. @default 'manual' */
  defaultSource?: EventSource
  /** Clock. @default () => new Date() */
  now?: () => Date
  /** Keys looked up and written per batch. @default 500 */
  batchSize?: number
  /** Called with bytes read so far, after each batch. */
  onProgress?: (bytesRead: number) => void
  /** Validate and count only; write nothing. @default false */
  dryRun?: boolean
}

/** Local part used to ask `findSuppressions` about a domain (address entries never use it). */
const DOMAIN_PROBE = 'bounce-guard-domain-probe'

function sameDate(a: Date | undefined, b: Date | undefined): boolean {
  return (a?.getTime() ?? null) === (b?.getTime() ?? null)
}

function unchanged(existing: Suppression, row: ImportRow): boolean {
  return (
    existing.reason === row.reason &&
    existing.source === row.source &&
    sameDate(existing.expiresAt, row.expiresAt) &&
    (existing.ruleId ?? undefined) === row.ruleId &&
    (existing.detail ?? undefined) === row.detail &&
    Boolean(existing.escalated) === Boolean(row.escalated)
  )
}

/**
 * Import a stream of CSV or JSON Lines records into the store. Malformed records are collected in
 * `rejected` (with their line number) and the rest still imports.
 */
export async function importSuppressions(store: BounceStore, input: Readable, options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? (() => new Date())
  const defaults = { reason: options.defaultReason ?? 'manual', source: options.defaultSource ?? 'manual' } as const
  const batchSize = options.batchSize ?? 500
  const summary: ImportSummary = { rows: 0, created: 0, updated: 0, unchanged: 0, expired: 0, rejected: [], ignoredColumns: [] }
  let bytes = 0
  input.on('data', (chunk: Buffer | string) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
  })
  const rl = createInterface({ input, crlfDelay: Infinity })

  let batch: Array<{ line: number; row: ImportRow }> = []
  const flush = async () => {
    if (batch.length === 0) return
    const current = batch
    batch = []
    const probes = current.map(({ row }) => (row.scope === 'address' ? row.key : `${DOMAIN_PROBE}@${row.key}`))
    const found = await store.findSuppressions([...new Set(probes)], now())
    // What this batch has written, so a key repeated in the file is compared with its latest value.
    const written = new Map<string, Suppression>()
    for (let i = 0; i < current.length; i++) {
      const { row } = current[i]!
      const id = `${row.scope}:${row.key}`
      const hit = found.get(probes[i]!)
      const existing = written.get(id) ?? (hit && hit.key === row.key && hit.scope === row.scope ? hit : undefined)
      if (row.expiresAt && row.expiresAt.getTime() <= now().getTime()) {
        summary.expired++
        continue
      }
      if (existing && unchanged(existing, row)) {
        summary.unchanged++
        continue
      }
      if (existing) summary.updated++
      else summary.created++
      if (options.dryRun) {
        const t = row.createdAt ?? now()
        written.set(id, { ...row, createdAt: t, updatedAt: t })
        continue
      }
      const res = await store.suppress({
        key: row.key,
        scope: row.scope,
        reason: row.reason,
        source: row.source,
        // A new entry keeps the creation time recorded in the file; an update happens now.
        at: existing ? now() : (row.createdAt ?? now()),
        ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
        ...(row.escalated !== undefined ? { escalated: row.escalated } : {}),
        ...(row.ruleId ? { ruleId: row.ruleId } : {}),
        ...(row.detail ? { detail: row.detail } : {}),
      })
      written.set(id, res.suppression)
    }
    options.onProgress?.(bytes)
  }

  let lineNo = 0
  let pending: { start: number; text: string } | undefined
  let columns: ReturnType<typeof headerFields> | null = null // null = not decided yet
  const accept = async (start: number, result: RowResult) => {
    summary.rows++
    if (!result.ok) summary.rejected.push({ line: start, error: result.error })
    else {
      batch.push({ line: start, row: result.row })
      if (batch.length >= batchSize) await flush()
    }
  }
  const handleCsv = async (start: number, text: string) => {
    const parsed = parseCsvRecord(text)
    if (columns === null) {
      const header = parsed.ok ? headerFields(parsed.fields) : undefined
      if (header && 'error' in header) {
        throw new CliError(`line ${start}: ${header.error}; nothing was imported`, 4)
      }
      columns = header
      if (header) {
        summary.ignoredColumns = header.unknown
        return
      }
    }
    if (!parsed.ok) return accept(start, parsed)
    const cols = columns && !('error' in columns) ? columns.fields : DEFAULT_FIELDS
    return accept(start, csvToImportRow(parsed.fields, cols, defaults))
  }

  for await (const physical of rl) {
    lineNo++
    const line = lineNo === 1 ? physical.replace(/^\uFEFF/, '') : physical
    if (options.format === 'jsonl') {
      if (line.trim() === '') continue
      await accept(lineNo, jsonToImportRow(line, defaults))
      continue
    }
    if (pending) {
      pending.text += `\n${line}`
      // A runaway quote would otherwise swallow the rest of the file: cap a record at 100 lines.
      if (needsMoreLines(pending.text) && lineNo - pending.start < 100) continue
      const p = pending
      pending = undefined
      await handleCsv(p.start, p.text)
      continue
    }
    if (line.trim() === '') continue
    if (needsMoreLines(line)) {
      pending = { start: lineNo, text: line }
      continue
    }
    await handleCsv(lineNo, line)
  }
  if (pending) await handleCsv(pending.start, pending.text)
  await flush()
  options.onProgress?.(bytes)
  return summary
}

/** Open a file for import; `-` reads standard input. Returns the stream and its size when known. */
export function openInput(path: string): { stream: Readable; size?: number } {
  if (path === '-') return { stream: process.stdin }
  const size = statSync(path).size
  return { stream: createReadStream(path), size }
}

/** Options of `exportSuppressions`. */
export interface ExportOptions {
  format: FileFormat
  filter?: SuppressionFilter
  /** Page size. @default 1000 */
  pageSize?: number
  /** Called with the number of rows written so far, after each page. */
  onProgress?: (rows: number) => void
}

/** Write the suppression list (filtered) as CSV with a header, or as JSON Lines. Returns the row count. */
export async function exportSuppressions(store: BounceStore, out: Writable, options: ExportOptions): Promise<number> {
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain')
  }
  if (options.format === 'csv') await write(`${formatCsvRow(CSV_COLUMNS)}\n`)
  let cursor: string | undefined
  let count = 0
  do {
    const page = await store.listSuppressions(options.filter, { limit: options.pageSize ?? 1000, ...(cursor ? { cursor } : {}) })
    let chunk = ''
    for (const s of page.items) {
      chunk += options.format === 'csv' ? `${formatCsvRow(suppressionToCsv(s))}\n` : `${JSON.stringify(suppressionToJson(s))}\n`
    }
    if (chunk) await write(chunk)
    count += page.items.length
    options.onProgress?.(count)
    cursor = page.nextCursor
  } while (cursor)
  return count
}
