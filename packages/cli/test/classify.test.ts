import { describe, expect, it } from 'vitest'
import { runCli } from './cli-helpers.js'

const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)

describe('bounce-guard classify (real process)', () => {
  it('classifies each line of standard input, in order, as JSON Lines', () => {
    const input = [
      '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
      '',
      '452 4.2.2 Mailbox full',
      'Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
    ].join('\n')
    const r = runCli(['classify', '--json'], { input })
    expect(r.status, r.stderr).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(3)
    expect(out[0]).toMatchObject({
      input: '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
      code: 550,
      enhancedStatus: '5.1.1',
      reason: 'userunknown',
      hard: true,
      permanent: true,
      scope: 'recipient',
      text: '<a@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    })
    expect(out[1]).toMatchObject({ code: 452, reason: 'mailboxfull', hard: false, permanent: false })
    expect(out[2]).toMatchObject({ reason: 'blocked', hard: false, blocklist: 'spamhaus', scope: 'sender', code: 554 })
    for (const o of out) expect(typeof o.ruleId).toBe('string')
  })

  it('takes replies as arguments, one argument may hold a multi-line reply', () => {
    const gmail =
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos.\n550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp"
    const r = runCli(['classify', '--json', gmail, '421 4.7.0 Try again in 10 minutes'])
    expect(r.status, r.stderr).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(2)
    expect(out[0]).toMatchObject({ input: gmail, reason: 'userunknown', provider: 'gmail', ruleId: 'gmail.user-unknown', hard: true })
    expect(out[1]).toMatchObject({ code: 421, retryAfter: 600, permanent: false })
  })

  it('prints an aligned table without --json and uses the context options', () => {
    const r = runCli(['classify', '--recipient-domain', 'outlook.com', '550 5.1.1 User unknown', 'Connection timed out'])
    expect(r.status, r.stderr).toBe(0)
    const rows = r.stdout.trimEnd().split('\n')
    expect(rows).toHaveLength(4)
    expect(rows[0]).toMatch(/^code\s+status\s+reason\s+hard/)
    expect(rows[2]).toMatch(/550\s+5\.1\.1\s+userunknown\s+yes\s+yes\s+recipient\s+microsoft/)
    expect(rows[3]).toMatch(/networkerror\s+no/)
    expect(rows[2]!.indexOf('userunknown')).toBe(rows[3]!.indexOf('networkerror'))
  })
})
