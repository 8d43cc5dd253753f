import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { defineDatabaseSuite } from './database-suite.js'

// The conformance suite runs on an in-memory database; the multi-worker tests on a WAL file that
// eight DataSources (eight better-sqlite3 connections) share.
const dir = mkdtempSync(join(tmpdir(), 'bg-typeorm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
await defineDatabaseSuite('sqlite', { concurrency: true, sqliteFile: join(dir, 'shared.db') })
