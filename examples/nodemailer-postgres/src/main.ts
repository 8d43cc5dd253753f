/**
 * `DATABASE_URL=postgres://... SMTP_HOST=... SMTP_PORT=... pnpm --filter @bounce-guard/example-nodemailer-postgres start to@example.com`
 * Run `pnpm bounce-guard migrate --db $DATABASE_URL` first.
 */
import { startAppServer } from './app-server.js'

const to = process.argv[2]
const databaseUrl = process.env.DATABASE_URL
if (!to || !databaseUrl) {
  console.error('usage: DATABASE_URL=postgres://... main.ts <recipient>   (env SMTP_HOST, SMTP_PORT)')
  process.exit(2)
}
const app = await startAppServer({
  databaseUrl,
  smtp: { host: process.env.SMTP_HOST ?? '127.0.0.1', port: Number(process.env.SMTP_PORT ?? 25) },
  retryWorker: false,
})
try {
  const info = await app.transporter.sendMail({ from: 'app@example.org', to, subject: 'Hello', text: 'Hi there' })
  console.log(JSON.stringify(info.bounceGuard, null, 2))
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 1
} finally {
  await app.close()
}
