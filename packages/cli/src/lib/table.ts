/**
 * Plain-text tables for terminals: aligned columns, a header rule, numbers right-aligned.
 * Used by the CLI and the demo; no colours, so output pipes and diffs cleanly.
 */

/** One column of a table. */
export interface TableColumn<Row> {
  /** Header text. */
  header: string
  /** Cell text for a row. */
  value: (row: Row) => string | number | boolean | undefined
  /** @default 'left', or 'right' when every value of the column is a number */
  align?: 'left' | 'right'
  /** Cut longer cells with an ellipsis. @default no limit */
  maxWidth?: number
}

function cell(v: string | number | boolean | undefined): string {
  if (v === undefined) return '-'
  return String(v).replace(/[\r\n\t]+/g, ' ')
}

/** Format rows as a table; returns the text with a trailing newline (an empty table prints the header only). */
export function formatTable<Row>(rows: readonly Row[], columns: readonly TableColumn<Row>[]): string {
  const raw = rows.map((r) => columns.map((c) => c.value(r)))
  const cells = raw.map((vals) =>
    vals.map((v, i) => {
      const s = cell(v)
      const max = columns[i]!.maxWidth
      return max !== undefined && s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s
    }),
  )
  const align = columns.map((c, i) => c.align ?? (raw.length > 0 && raw.every((r) => typeof r[i] === 'number') ? 'right' : 'left'))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)))
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (align[i] === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)]
  return `${out.join('\n')}\n`
}

/** A percentage with one decimal, e.g. `0.1234` -> `12.3%`. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`
}
