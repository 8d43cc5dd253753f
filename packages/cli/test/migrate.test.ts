// `bounce-guard migrate`: creates the tables on a new database, is a no-op the second time, and
// the other commands refuse a server database whose schema is missing.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlAvailable, pgAvailable, runCli, tmpDir } from './cli-helpers.js'

describe('bounce-guard migrate (spawned, SQLite file)', { timeout: 120_000 }, () => {
  let dir: string
  beforeAll(() => {
    dir = tmpDir('bg-cli-migrate-')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('creates the tables once, then reports nothing to do', async () => {
    const file = join(dir, 'nested', 'm.sqlite')
    const first = runCli(['migrate', '--db', `sqlite:${file}`, '--json'])
    expect(first.status, first.stderr).toBe(0)
    const applied = (JSON.parse(first.stdout) as { applied: string[] }).applied
    expect(applied.length).toBeGreaterThan(0)
    const sqlite = new DataSource({ type: 'better-sqlite3', database: file, readonly: true })
    await sqlite.initialize()
    const tables = ((await sqlite.query("SELECT name FROM sqlite_master WHERE type = 'table'")) as Array<{ name: string }>).map(
      (t) => t.name,
    )
    await sqlite.destroy()
    expect(tables.filter((t) => /suppression/i.test(t)).length).toBeGreaterThan(0)
    const second = runCli(['migrate', '--db', `sqlite:${file}`])
    expect(second.status).toBe(0)
    expect(second.stdout).toMatch(/up to date/)
  })

  it('uses ./bounce-guard.sqlite in the working folder by default', () => {
    const r = runCli(['migrate'], { cwd: dir })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain(join(dir, 'bounce-guard.sqlite'))
  })

  it('explains a bad URL with exit 3', () => {
    const r = runCli(['migrate', '--db', 'mysql://root@127.0.0.1'])
    expect(r.status).toBe(3)
    expect(r.stderr).toMatch(/database name is missing/)
    expect(runCli(['migrate', '--help']).stdout).toMatch(/--db <url>/)
  })
})

describe('bounce-guard migrate (spawned, PostgreSQL)', { timeout: 120_000 }, async () => {
  const server = await pgAvailable()
  afterAll(() => server.drop())
  it.skipIf(!server.ok)(`refuses an unmigrated database, then migrates it${server.ok ? '' : ` (skipped: ${server.why})`}`, async () => {
    const url = server.url!
    const before = runCli(['suppressions', 'list', '--db', url])
    expect(before.status).toBe(3)
    expect(before.stderr).toMatch(/run `bounce-guard migrate --db postgres:/)
    const first = runCli(['migrate', '--db', url, '--json'])
    expect(first.status, first.stderr).toBe(0)
    expect((JSON.parse(first.stdout) as { applied: string[] }).applied.length).toBeGreaterThan(0)
    const client = new DataSource({ type: 'postgres', url })
    await client.initialize()
    const rows = (await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) as Array<{
      table_name: string
    }>
    await client.destroy()
    expect(rows.map((r) => r.table_name).some((t) => /suppression/i.test(t))).toBe(true)
    expect(runCli(['migrate', '--db', url]).stdout).toMatch(/up to date/)
    expect(runCli(['suppressions', 'list', '--db', url]).status).toBe(0)
  })
})

describe('bounce-guard migrate and import (spawned, MySQL/MariaDB)', { timeout: 120_000 }, async () => {
  const server = await mysqlAvailable()
  afterAll(() => server.drop())
  it.skipIf(!server.ok)(`migrates, then imports with a rejected line${server.ok ? '' : ` (skipped: ${server.why})`}`, () => {
    const url = server.url!
    expect(runCli(['suppressions', 'list', '--db', url]).status).toBe(3)
    expect(runCli(['migrate', '--db', url]).stdout).toMatch(/applied \d+ migrations?/)
    const r = runCli(['suppressions', 'import', '-', '--db', url, '--json'], {
      input: 'key,reason\na@m.test,complaint\nbad,manual\nb@m.test,\n',
    })
    expect(r.status).toBe(4)
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 2, rejected: [{ line: 3 }] })
    const listed = JSON.parse(runCli(['suppressions', 'list', '--json', '--db', url]).stdout) as Array<{ key: string; reason: string }>
    expect(listed.map((s) => `${s.key}:${s.reason}`).sort()).toEqual(['a@m.test:complaint', 'b@m.test:manual'])
  })
})
