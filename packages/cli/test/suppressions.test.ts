// `bounce-guard suppressions`: the streaming import/export logic in-process against the memory
// store, then the real CLI spawned against a SQLite file (and PostgreSQL when reachable).
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { MemoryBounceStore } from '@bounce-guard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needsMoreLines, parseCsvRecord, formatCsvRow } from '../src/lib/csv.js'
import { parseDatabaseUrl } from '../src/lib/db-url.js'
import { exportSuppressions, importSuppressions } from '../src/lib/suppression-io.js'
import { pgAvailable, runCli, tmpDir } from './cli-helpers.js'

const NOW = new Date('2025-03-03T09:00:00Z')

function sink(): { stream: Writable; text: () => string } {
  let buf = ''
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString()
      cb()
    },
  })
  return { stream, text: () => buf }
}

describe('CSV records', () => {
  it('splits quoted fields with commas, escaped quotes and empty fields', () => {
    expect(parseCsvRecord('a@x.test,"b, ""c""",,d')).toEqual({ ok: true, fields: ['a@x.test', 'b, "c"', '', 'd'] })
  })
  it('rejects a stray quote and an unterminated quote instead of guessing', () => {
    expect(parseCsvRecord('a@x.test,b"c').ok).toBe(false)
    expect(parseCsvRecord('a@x.test,"bc').ok).toBe(false)
    expect(parseCsvRecord('"a"x,b').ok).toBe(false)
  })
  it('knows when a quoted field continues on the next line', () => {
    expect(needsMoreLines('a,"multi')).toBe(true)
    expect(needsMoreLines('a,"multi\nline"')).toBe(false)
    expect(needsMoreLines('a,"say ""hi"""')).toBe(false)
    expect(needsMoreLines('a,b"c')).toBe(false)
  })
  it('round-trips what it writes', () => {
    const values = ['x@y.test', 'has,comma', 'has "quote"', ' padded ', 'line\nbreak', '']
    const line = formatCsvRow(values)
    expect(parseCsvRecord(line)).toEqual({ ok: true, fields: values })
  })
})

describe('database URLs', () => {
  it('resolves sqlite paths and keeps server URLs, masking passwords', () => {
    expect(parseDatabaseUrl('sqlite:data/x.sqlite', '/srv')).toMatchObject({ kind: 'sqlite', path: '/srv/data/x.sqlite' })
    expect(parseDatabaseUrl('sqlite:///var/x.db')).toMatchObject({ kind: 'sqlite', path: '/var/x.db' })
    expect(parseDatabaseUrl('postgres://u:secret@db.local/bg')).toMatchObject({
      kind: 'postgres',
      host: 'db.local',
      port: 5432,
      database: 'bg',
      display: 'postgres://u:***@db.local/bg',
    })
    expect(parseDatabaseUrl('mariadb://root@127.0.0.1:3307/bg')).toMatchObject({ kind: 'mysql', port: 3307 })
  })
  it('throws EDATABASE_URL for what it cannot use', () => {
    for (const bad of ['', 'redis://x/0', 'postgres://u:p@/db', 'postgres://host', 'sqlite:', 'nonsense']) {
      expect(() => parseDatabaseUrl(bad), bad).toThrow(expect.objectContaining({ code: 'EDATABASE_URL' }))
    }
  })
})

describe('importSuppressions (memory store)', () => {
  const csv = [
    'email,reason,expires_at,detail',
    'Alice@Example.TEST,userunknown,,"bounced, twice"',
    'bob@example.test,complaint,,',
    'not-an-address,manual,,',
    'carol@example.test,nosuchreason,,',
    '@blocked.test,manual,,whole domain',
    'dave@example.test,mailboxfull,2099-01-01,',
    'erin@example.test,manual,yesterday,',
    '"frank@example.test",manual,,"a note',
    'over two lines"',
    'old@example.test,manual,2001-01-01,',
    '',
  ].join('\n')

  it('imports valid rows, rejects bad ones with line numbers, and is idempotent', async () => {
    const store = new MemoryBounceStore()
    const first = await importSuppressions(store, Readable.from([csv]), { format: 'csv', now: () => NOW, batchSize: 3 })
    expect(first.created).toBe(5)
    expect(first.updated).toBe(0)
    expect(first.expired).toBe(1)
    expect(first.rejected.map((r) => r.line)).toEqual([4, 5, 8])
    expect(first.rejected[0]!.error).toMatch(/"not-an-address" is not a valid domain/)
    expect(first.rejected[1]!.error).toMatch(/unknown reason/)
    expect(first.rejected[2]!.error).toMatch(/expires_at/)

    const found = await store.findSuppressions(
      ['alice@example.test', 'someone@blocked.test', 'frank@example.test', 'carol@example.test'],
      NOW,
    )
    expect(found.get('alice@example.test')).toMatchObject({ reason: 'userunknown', detail: 'bounced, twice' })
    expect(found.get('someone@blocked.test')).toMatchObject({ key: 'blocked.test', scope: 'domain' })
    expect(found.get('frank@example.test')?.detail).toBe('a note\nover two lines')
    expect(found.has('carol@example.test')).toBe(false)

    const second = await importSuppressions(store, Readable.from([csv]), { format: 'csv', now: () => NOW })
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 5 })

    const changed = await importSuppressions(
      store,
      Readable.from(['key,reason\nbob@example.test,unsubscribe\nnew@example.test,manual\n']),
      { format: 'csv', now: () => NOW },
    )
    expect(changed).toMatchObject({ created: 1, updated: 1, unchanged: 0 })
    expect((await store.findSuppressions(['bob@example.test'], NOW)).get('bob@example.test')?.reason).toBe('unsubscribe')
  })

  it('counts a key repeated in one file once as new and then as updated', async () => {
    const store = new MemoryBounceStore()
    const s = await importSuppressions(store, Readable.from(['a@x.test,,manual\na@x.test,,complaint\na@x.test,,complaint\n']), {
      format: 'csv',
      now: () => NOW,
    })
    expect(s).toMatchObject({ created: 1, updated: 1, unchanged: 1 })
  })

  it('reads JSON Lines, including what export writes', async () => {
    const store = new MemoryBounceStore()
    const lines = [
      '{"key":"a@x.test","reason":"userunknown"}',
      '"b@x.test"',
      '{not json',
      '[1,2]',
      '{"address":"c@x.test","expiresAt":"2099-01-01T00:00:00Z"}',
    ]
    const s = await importSuppressions(store, Readable.from([lines.join('\n')]), { format: 'jsonl', now: () => NOW })
    expect(s.created).toBe(3)
    expect(s.rejected.map((r) => r.line)).toEqual([3, 4])

    const out = sink()
    const n = await exportSuppressions(store, out.stream, { format: 'jsonl', filter: { now: NOW }, pageSize: 2 })
    expect(n).toBe(3)
    const copy = new MemoryBounceStore()
    const again = await importSuppressions(copy, Readable.from([out.text()]), { format: 'jsonl', now: () => NOW })
    expect(again).toMatchObject({ created: 3, rejected: [] })
    const c = (await copy.findSuppressions(['c@x.test'], NOW)).get('c@x.test')
    expect(c?.expiresAt?.toISOString()).toBe('2099-01-01T00:00:00.000Z')
  })

  it('exports CSV with a header that imports back unchanged', async () => {
    const store = new MemoryBounceStore()
    await store.suppress({
      key: 'x@y.test',
      scope: 'address',
      reason: 'userunknown',
      source: 'smtp',
      at: NOW,
      ruleId: 'gmail.user-unknown',
      detail: '550 5.1.1, "quoted"',
    })
    const out = sink()
    await exportSuppressions(store, out.stream, { format: 'csv', filter: { now: NOW } })
    expect(out.text().split('\n')[0]).toBe('key,scope,reason,source,created_at,updated_at,expires_at,escalated,rule_id,detail')
    const s = await importSuppressions(store, Readable.from([out.text()]), { format: 'csv', now: () => NOW })
    expect(s).toMatchObject({ rows: 1, unchanged: 1, rejected: [] })
  })
})

describe('bounce-guard suppressions (spawned, SQLite file)', { timeout: 120_000 }, () => {
  let dir: string
  let db: string
  beforeAll(() => {
    dir = tmpDir('bg-cli-supp-')
    db = `sqlite:${join(dir, 'store.sqlite')}`
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('adds, lists with filters, removes', () => {
    expect(runCli(['suppressions', 'add', 'Alice@Example.TEST', 'bob@other.test', '--reason', 'userunknown', '--db', db]).status).toBe(0)
    expect(runCli(['suppressions', 'add', '@blocked.test', '--db', db, '--expires', '30d']).stdout).toMatch(/added domain blocked\.test/)
    const all = JSON.parse(runCli(['suppressions', 'list', '--json', '--db', db]).stdout) as Array<{ key: string }>
    expect(all.map((s) => s.key).sort()).toEqual(['alice@example.test', 'blocked.test', 'bob@other.test'])
    const byDomain = JSON.parse(runCli(['suppressions', 'list', '--json', '--domain', 'example.test', '--db', db]).stdout) as Array<{
      key: string
    }>
    expect(byDomain.map((s) => s.key)).toEqual(['alice@example.test'])
    const byReason = JSON.parse(runCli(['suppressions', 'list', '--json', '--reason', 'manual', '--db', db]).stdout) as Array<{
      key: string
    }>
    expect(byReason.map((s) => s.key)).toEqual(['blocked.test'])
    const future = JSON.parse(runCli(['suppressions', 'list', '--json', '--since', '2999-01-01', '--db', db]).stdout) as unknown[]
    expect(future).toEqual([])
    const table = runCli(['suppressions', 'list', '--db', db]).stdout
    expect(table).toMatch(/^KEY\s+SCOPE\s+REASON/)
    expect(runCli(['suppressions', 'remove', 'alice@example.test', '--db', db]).stdout).toMatch(/^removed/)
    expect(runCli(['suppressions', 'remove', 'alice@example.test', '--db', db]).stdout).toMatch(/^not suppressed/)
  })

  it('imports a CSV file: exit 4 for malformed lines, the rest imported, idempotent on re-run', () => {
    const file = join(dir, 'list.csv')
    const rows = ['address,reason']
    for (let i = 0; i < 1200; i++) rows.push(`user${i}@bulk.test,userunknown`)
    rows.push('broken"line,manual', 'last@bulk.test,complaint')
    writeFileSync(file, `${rows.join('\n')}\n`)
    const first = runCli(['suppressions', 'import', file, '--db', db, '--json'])
    expect(first.status).toBe(4)
    const s1 = JSON.parse(first.stdout) as { created: number; rejected: Array<{ line: number }> }
    expect(s1.created).toBe(1201)
    expect(s1.rejected.map((r) => r.line)).toEqual([1202])
    const again = runCli(['suppressions', 'import', file, '--db', db])
    expect(again.status).toBe(4)
    expect(again.stdout).toMatch(/0 new, 0 updated, 1201 unchanged/)
    expect(again.stderr).toMatch(/list\.csv:1202: rejected: stray quote/)
    const listed = JSON.parse(
      runCli(['suppressions', 'list', '--json', '--domain', 'bulk.test', '--limit', '0', '--db', db]).stdout,
    ) as unknown[]
    expect(listed).toHaveLength(1201)
  })

  it('shows a progress bar on stderr when asked, and exports CSV and JSON Lines', () => {
    const file = join(dir, 'small.jsonl')
    writeFileSync(file, '{"key":"p@prog.test"}\n')
    const r = runCli(['suppressions', 'import', file, '--db', db, '--progress'])
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(/import \[.*\] 100%/)
    const out = join(dir, 'out.csv')
    expect(runCli(['suppressions', 'export', out, '--domain', 'prog.test', '--db', db]).status).toBe(0)
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2)
    const jsonl = runCli(['suppressions', 'export', '--format', 'jsonl', '--reason', 'complaint', '--db', db]).stdout.trim().split('\n')
    expect(jsonl.map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(['last@bulk.test'])
  })

  it('fails clearly: bad URL (3), unreachable server (3), unreadable file (4), bad option (2)', () => {
    const badUrl = runCli(['suppressions', 'list', '--db', 'redis://localhost/0'])
    expect(badUrl.status).toBe(3)
    expect(badUrl.stderr).toMatch(/cannot use --db.*unknown scheme/)
    const down = runCli(['suppressions', 'list', '--db', 'postgres://postgres@127.0.0.1:1/test'])
    expect(down.status).toBe(3)
    expect(down.stderr).toMatch(/cannot open the postgres server 127\.0\.0\.1:1/)
    expect(runCli(['suppressions', 'import', join(dir, 'missing.csv'), '--db', db]).status).toBe(4)
    expect(runCli(['suppressions', 'list', '--reason', 'nope', '--db', db]).status).toBe(2)
    const help = runCli(['--help'])
    expect(help.stdout).toMatch(/3 {2}database error/)
  })
})

describe('bounce-guard suppressions (spawned, PostgreSQL)', { timeout: 120_000 }, async () => {
  const pg = await pgAvailable()
  afterAll(() => pg.drop())
  it.skipIf(!pg.ok)(`round-trips through PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.why})`}`, () => {
    const url = pg.url!
    expect(runCli(['migrate', '--db', url]).status).toBe(0)
    expect(runCli(['suppressions', 'add', 'pg-user@cli-test.test', '--db', url]).status).toBe(0)
    const listed = JSON.parse(runCli(['suppressions', 'list', '--json', '--domain', 'cli-test.test', '--db', url]).stdout) as Array<{
      key: string
    }>
    expect(listed.map((s) => s.key)).toContain('pg-user@cli-test.test')
    expect(runCli(['suppressions', 'remove', 'pg-user@cli-test.test', '--db', url]).stdout).toMatch(/^removed/)
  })
})
