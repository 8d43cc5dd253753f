/**
 * Two "nodes" (each its own DataSource and connection pool, as two app servers or two Haraka
 * processes) share traffic-shaping actions through the `<prefix>shaping` table: a pause node A
 * decides is applied by node B after its next refresh, on every database.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DataSource } from 'typeorm'
import { createShaper, createSharedShaper } from '@bounce-guard/core'
import type { BounceEvent } from '@bounce-guard/core'
import { createTypeOrmBounceStore, runMigrations } from '../src/index.js'
import { dropTables, openDataSource, ph, qi, serverAvailable, uniquePrefix, type TargetName } from './db-fixture.js'

const TSS04 =
  '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes'
const dir = mkdtempSync(join(tmpdir(), 'bg-shaping-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const targets: TargetName[] = ['sqlite', 'postgres', 'mariadb']
for (const target of targets) {
  const available = await serverAvailable(target)
  describe.skipIf(!available)(`shared shaping on ${target}`, () => {
    it('a pause decided by node A is applied by node B (separate connection pools) within one refresh', async () => {
      const prefix = uniquePrefix('shs')
      const file = join(dir, `${target}.sqlite`)
      const dsA: DataSource = openDataSource(target, prefix, {}, file)
      const dsB: DataSource = openDataSource(target, prefix, {}, file)
      await dsA.initialize()
      await dsB.initialize()
      let t = Date.UTC(2031, 5, 1, 9, 0, 0)
      const now = () => new Date(t)
      const a = createSharedShaper({
        store: createTypeOrmBounceStore(dsA, { tablePrefix: prefix }),
        shaper: createShaper({ now }),
        now,
        refreshMs: 60_000,
      })
      const b = createSharedShaper({
        store: createTypeOrmBounceStore(dsB, { tablePrefix: prefix }),
        shaper: createShaper({ now }),
        now,
        refreshMs: 60_000,
      })
      try {
        await dropTables(dsA, prefix)
        await runMigrations(dsA, { tablePrefix: prefix })
        for (let i = 0; i < 3; i++) {
          const e: BounceEvent = {
            recipient: `u${i}@yahoo.com`,
            domain: 'yahoo.com',
            type: 'deferred',
            at: now(),
            source: 'smtp',
            reply: TSS04,
          }
          a.observe(e)
        }
        await a.refresh()
        // The row, read with plain SQL.
        const rows = (await dsB.query(`SELECT * FROM ${qi(dsB, `${prefix}shaping`)} WHERE rule_id = ${ph(dsB, 1)}`, [
          'yahoo.tss04',
        ])) as Record<string, unknown>[]
        expect(rows).toHaveLength(1)
        expect(rows[0]!.shaping_key).toBe('provider:yahoo')
        expect(Number(rows[0]!.until_at)).toBe(t + 2 * 3_600_000)
        expect(JSON.parse(String(rows[0]!.evidence)).reply).toBe(TSS04)
        expect(b.check('x@yahoo.com').action).toBe('send')
        await b.refresh()
        const d = b.check('x@ymail.com') // another Yahoo domain: the pause is on the provider
        expect(d).toMatchObject({ action: 'pause', ruleId: 'yahoo.tss04', key: 'provider:yahoo' })
        expect(b.check('x@example.org').action).toBe('send')
        // Lifted on B: gone from the store, so A does not bring it back to a third node.
        expect(await b.liftShared('provider:yahoo')).toBe(1)
        expect(b.local.exportState().entries).toEqual([])
        t += 1000
        const c = createSharedShaper({
          store: createTypeOrmBounceStore(dsB, { tablePrefix: prefix }),
          shaper: createShaper({ now }),
          now,
          refreshMs: 60_000,
        })
        await c.ready
        expect(c.check('x@yahoo.com').action).toBe('send')
        c.stop()
      } finally {
        a.stop()
        b.stop()
        await dropTables(dsA, prefix)
        await dsA.destroy()
        await dsB.destroy()
      }
    })

    it('a cap holds for two nodes together (separate connection pools): no more than the cap per minute window', async () => {
      const prefix = uniquePrefix('shc')
      const file = join(dir, `${target}-cap.sqlite`)
      const dss: DataSource[] = [openDataSource(target, prefix, {}, file), openDataSource(target, prefix, {}, file)]
      for (const ds of dss) await ds.initialize()
      let t = Date.UTC(2031, 5, 1, 9, 0, 0)
      const now = () => new Date(t)
      const cap = { key: 'provider:microsoft', ruleId: 'microsoft.reputation', action: 'cap' as const, perMinute: 5 }
      const nodes = dss.map((ds) =>
        createSharedShaper({
          store: createTypeOrmBounceStore(ds, { tablePrefix: prefix }),
          shaper: createShaper({ now }),
          now,
          refreshMs: 60_000,
        }),
      )
      try {
        await dropTables(dss[0]!, prefix)
        await runMigrations(dss[0]!, { tablePrefix: prefix })
        const store = createTypeOrmBounceStore(dss[0]!, { tablePrefix: prefix })
        await store.putShapingEntries([{ ...cap, since: t, until: t + 3_600_000 }], now())
        for (const n of nodes) {
          await n.refresh()
          expect(n.caps('x@outlook.com')).toEqual([{ key: cap.key, perMinute: 5, ruleId: cap.ruleId }])
        }
        // Every second of two minutes, both nodes try to send to Outlook at the same time. Alone,
        // each would send 5 a minute (one every 12 s); together they get the window's 5.
        const perWindow: number[] = []
        for (let w = 0; w < 2; w++) {
          let sent = 0
          for (let s = 0; s < 60; s++) {
            const ds = await Promise.all(nodes.map((n) => n.acquire('x@outlook.com')))
            sent += ds.filter((d) => d.action === 'send').length
            t += 1000
          }
          perWindow.push(sent)
        }
        expect(perWindow).toEqual([5, 5])
        // The store's count per window, read with plain SQL.
        const rows = (await dss[1]!.query(
          `SELECT window_start, used FROM ${qi(dss[1]!, `${prefix}shaping_slots`)} WHERE shaping_key = ${ph(dss[1]!, 1)} ORDER BY window_start`,
          [cap.key],
        )) as Array<Record<string, unknown>>
        expect(rows.map((r) => [Number(r.window_start), Number(r.used)])).toEqual([
          [Date.UTC(2031, 5, 1, 9, 0, 0), 5],
          [Date.UTC(2031, 5, 1, 9, 1, 0), 5],
        ])
        // Many concurrent takers on both pools at once never exceed the limit together.
        const stores = dss.map((ds) => createTypeOrmBounceStore(ds, { tablePrefix: prefix }))
        const window = new Date(Date.UTC(2031, 5, 1, 9, 2, 0))
        const grants = await Promise.all(
          Array.from({ length: 30 }, (_, i) => stores[i % 2]!.takeShapingSlots('provider:gmail', window, 9, 1)),
        )
        expect(grants.reduce((a, b) => a + b, 0)).toBe(9)
      } finally {
        for (const n of nodes) n.stop()
        await dropTables(dss[0]!, prefix)
        for (const ds of dss) await ds.destroy()
      }
    })
  })
}
