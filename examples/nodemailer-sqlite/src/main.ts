/**
 * `SMTP_HOST=... SMTP_PORT=... pnpm --filter @bounce-guard/example-nodemailer-sqlite start to@example.com`
 * Sends one message and prints what Bounce Guard made of it.
 */
import { isBounceGuardError } from '@bounce-guard/core'
import { createMailer } from './mailer.js'

const to = process.argv[2]
if (!to) {
  console.error('usage: main.ts <recipient>   (env SMTP_HOST, SMTP_PORT, BOUNCE_GUARD_DB)')
  process.exit(2)
}
const mailer = await createMailer(
  { host: process.env.SMTP_HOST ?? '127.0.0.1', port: Number(process.env.SMTP_PORT ?? 25) },
  process.env.BOUNCE_GUARD_DB ?? 'sqlite:bounce-guard.sqlite',
)
try {
  const info = await mailer.transporter.sendMail({ from: 'app@example.org', to, subject: 'Hello', text: 'Hi there' })
  console.log(JSON.stringify(info.bounceGuard, null, 2))
} catch (err) {
  if (isBounceGuardError(err) && err.code === 'ESUPPRESSED') console.log(`not sent: ${to} is suppressed`)
  else console.error(err)
  process.exitCode = 1
} finally {
  await mailer.close()
}
