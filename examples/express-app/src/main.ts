/**
 * `SMTP_HOST=... SMTP_PORT=... PORT=3000 pnpm --filter @bounce-guard/example-express-app start`
 * then `curl -X POST localhost:3000/send -d '{"to":"x@example.com","subject":"hi","text":"hello"}'`.
 */
import { createBounceGuard } from '@bounce-guard/core'
import { withBounceGuard } from '@bounce-guard/nodemailer'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
import { createTransport } from 'nodemailer'
import { createApp } from './app.js'

/** Wire the store, the guard, the transporter and the HTTP server; returns them for tests. */
export async function start(options: { smtp: { host: string; port: number }; db: string; port?: number }) {
  const dataSource = createBounceGuardDataSource(options.db)
  await dataSource.initialize()
  await runMigrations(dataSource)
  const guard = createBounceGuard({ store: createTypeOrmBounceStore(dataSource) })
  const transporter = createTransport(withBounceGuard({ ...options.smtp, secure: false, ignoreTLS: true }, { guard }))
  const server = createApp({ transporter, guard })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()))
  return {
    server,
    guard,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      transporter.close()
      await guard.close()
      if (dataSource.isInitialized) await dataSource.destroy()
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await start({
    smtp: { host: process.env.SMTP_HOST ?? '127.0.0.1', port: Number(process.env.SMTP_PORT ?? 25) },
    db: process.env.BOUNCE_GUARD_DB ?? 'sqlite:bounce-guard.sqlite',
    port: Number(process.env.PORT ?? 3000),
  })
  const address = app.server.address()
  console.log(`listening on ${typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : address}`)
  const stop = () => void app.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
