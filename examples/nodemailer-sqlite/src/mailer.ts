/**
 * Nodemailer + Bounce Guard on one machine: an embedded SQLite file holds the suppression list,
 * the event log and the retry queue. The root README's Nodemailer example is copied from here.
 */
// #region readme-imports
import { createBounceGuard } from '@bounce-guard/core'
import { createRetryWorker, withBounceGuard } from '@bounce-guard/nodemailer'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
import { createTransport } from 'nodemailer'
// #endregion readme-imports

/** Build a transporter guarded by a SQLite-backed store, and its retry worker. */
export async function createMailer(smtp: { host: string; port: number }, db = 'sqlite:bounce-guard.sqlite') {
  // #region readme-body
  const dataSource = createBounceGuardDataSource(db)
  await dataSource.initialize()
  await runMigrations(dataSource) // creates the tables the first time
  const guard = createBounceGuard({ store: createTypeOrmBounceStore(dataSource) })

  const transporter = createTransport(withBounceGuard({ ...smtp, secure: false, ignoreTLS: true }, { guard }))
  const retries = createRetryWorker({ guard, transport: transporter, intervalMs: 60_000 })
  retries.start() // re-sends deferred recipients on the policy's schedule

  guard.on('suppressed', ({ suppression }) => console.log(`suppressed ${suppression.key}: ${suppression.reason}`))
  guard.on('alert', (a) => console.warn(`${a.destination} refuses us: ${a.reason}`))
  // #endregion readme-body

  return {
    transporter,
    guard,
    async close() {
      await retries.stop()
      transporter.close()
      await guard.close() // closes the store
      if (dataSource.isInitialized) await dataSource.destroy()
    },
  }
}
