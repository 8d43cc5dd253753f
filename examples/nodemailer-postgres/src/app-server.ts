/**
 * One application server of several that share a PostgreSQL store: what one learns (a bounce, a
 * suppression) every other refuses at call time; the retry queue is shared too, and a job is
 * claimed by one worker at a time (row locks with SKIP LOCKED).
 */
import { createBounceGuard } from '@bounce-guard/core'
import { createRetryWorker, withBounceGuard } from '@bounce-guard/nodemailer'
import { createBounceGuardDataSource, createTypeOrmBounceStore } from '@bounce-guard/typeorm'
import { createTransport } from 'nodemailer'

/** Options of `startAppServer`. */
export interface AppServerOptions {
  /** e.g. `postgres://mailer:secret@db.internal:5432/mail` */
  databaseUrl: string
  smtp: { host: string; port: number }
  /** Connections this process may open. @default 5 */
  poolSize?: number
  /** Run the retry worker in this process. @default true */
  retryWorker?: boolean
}

/**
 * Start one app server's mail side. The schema must exist: run `bounce-guard migrate --db <url>`
 * once at deploy time (or `runMigrations(dataSource)` from one process).
 */
export async function startAppServer(options: AppServerOptions) {
  const dataSource = createBounceGuardDataSource(options.databaseUrl, { poolSize: options.poolSize ?? 5 })
  await dataSource.initialize()
  const guard = createBounceGuard({ store: createTypeOrmBounceStore(dataSource) })
  const transporter = createTransport(withBounceGuard({ ...options.smtp, pool: true, secure: false, ignoreTLS: true }, { guard }))
  const worker = createRetryWorker({ guard, transport: transporter, intervalMs: 30_000 })
  if (options.retryWorker !== false) worker.start()
  return {
    guard,
    transporter,
    worker,
    async close() {
      await worker.stop()
      transporter.close()
      await guard.close()
      if (dataSource.isInitialized) await dataSource.destroy()
    },
  }
}
