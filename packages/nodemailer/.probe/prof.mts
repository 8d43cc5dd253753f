import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBounceGuard } from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
const dir = mkdtempSync(join(tmpdir(), 'bgp-'))
const ds = createBounceGuardDataSource(`sqlite:${join(dir, 'b.sqlite')}`)
await ds.initialize(); await runMigrations(ds)
const store = createTypeOrmBounceStore(ds)
const guard = createBounceGuard({ store })
console.log(await ds.query('PRAGMA synchronous'), await ds.query('PRAGMA journal_mode'))
let t = Date.now()
for (let i = 0; i < 1000; i++) await guard.check([`u${i}@example.com`])
console.log('check ms/op', (Date.now() - t) / 1000)
t = Date.now()
for (let i = 0; i < 1000; i++) await guard.record({ recipient: `u${i}@example.com`, type: 'delivered', source: 'smtp', reply: '250 ok' })
console.log('record delivered ms/op', (Date.now() - t) / 1000)
t = Date.now()
await Promise.all(Array.from({length: 1000}, (_, i) => guard.record({ recipient: `v${i}@example.com`, type: 'delivered', source: 'smtp', reply: '250 ok' })))
console.log('record delivered concurrent ms/op', (Date.now() - t) / 1000)
await ds.destroy()
