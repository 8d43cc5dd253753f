/**
 * Minimal RFC 4180 CSV, line by line, for streaming: `parseCsvRecord` splits one record (a quoted
 * field may span physical lines; the caller joins them while `needsMoreLines` says so) and
 * `formatCsvRow` writes one. A linear scan, no regular expressions on the data.
 */

/** Result of parsing one CSV record. */
export type CsvParseResult = { ok: true; fields: string[] } | { ok: false; error: string }

/**
 * True when `text` ends inside a quoted field, i.e. the record continues on the next physical line.
 * Counts quotes that open a field or close it; `""` inside a quoted field is an escaped quote.
 */
export function needsMoreLines(text: string): boolean {
  let inQuotes = false
  let fieldStart = true
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') i++
        else inQuotes = false
      }
    } else if (c === '"' && fieldStart) {
      inQuotes = true
      fieldStart = false
    } else {
      fieldStart = c === ','
    }
  }
  return inQuotes
}

/** Split one CSV record into fields. A quote in the middle of an unquoted field is an error. */
export function parseCsvRecord(text: string): CsvParseResult {
  const fields: string[] = []
  let i = 0
  const n = text.length
  for (;;) {
    if (text[i] === '"') {
      let value = ''
      i++
      for (;;) {
        if (i >= n) return { ok: false, error: 'unterminated quoted field' }
        const c = text[i]!
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"'
            i += 2
            continue
          }
          i++
          break
        }
        value += c
        i++
      }
      fields.push(value)
      if (i >= n) return { ok: true, fields }
      if (text[i] !== ',')
        return { ok: false, error: `unexpected character ${JSON.stringify(text[i])} after a closing quote (column ${fields.length})` }
      i++
    } else {
      const end = text.indexOf(',', i)
      const value = end === -1 ? text.slice(i) : text.slice(i, end)
      if (value.includes('"')) return { ok: false, error: `stray quote in unquoted field (column ${fields.length + 1})` }
      fields.push(value)
      if (end === -1) return { ok: true, fields }
      i = end + 1
    }
  }
}

/** Quote a field when it contains a comma, a quote, a line break or leading/trailing space. */
export function formatCsvField(value: string): string {
  if (value === '') return ''
  if (/[",\r\n]/.test(value) || value.trim() !== value) return `"${value.replaceAll('"', '""')}"`
  return value
}

/** One CSV line, without the line break. */
export function formatCsvRow(values: readonly string[]): string {
  return values.map(formatCsvField).join(',')
}
