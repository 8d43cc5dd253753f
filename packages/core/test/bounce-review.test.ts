import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { expectReadAsLabelled, readLabels, reviewAccuracy } from './support/review-labels.js'

const dir = fileURLToPath(new URL('./fixtures/bounces-review', import.meta.url))
const labels = readLabels(dir)

/** Files the parser got wrong before the generalisation work of issue 3 (each now asserted exactly). */
const FIXED = [
  'exchange2013-01.eml', // Exchange NDR without a DSN part, marked Auto-Submitted: auto-replied
  'exchange-de-01.eml', // the same in German ("Unzustellbar")
  'exchange-fr-01.eml', // the same in French ("Non remis")
  'exchange-delay-01.eml', // Exchange "Delivery delayed" notice
  'mdaemon-01.eml', // MDaemon session transcript with 250 replies before the 550
  'exim-03.eml', // Exim "Unrouteable address"
  'exim-11.eml', // Exim "a TLS session is required, but the server did not offer TLS support"
  'mailmarshal-03.eml', // MailMarshal: one reason above a list of two recipients
  'exchange-es-01.eml', // Spanish Exchange NDR ("No se puede entregar:"), text only
  'exchange-ja-02.eml', // Japanese Exchange NDR in ISO-2022-JP, text only
  'hmailserver-03.eml', // hMailServer "Error Type: DNS / No mail servers appear to exists"
  'bigfoot-03.eml', // forwarding: the Sendmail session names the forwarded address, not the listed one
  'named-01.eml', // 'Delivery to "Name" <address> failed.' for two recipients
  'sendmail-08.eml', // Sendmail transcript: "<<< 554" right under "while talking to" = refused at the greeting
  'postfix-moved-01.eml', // status 5.1.6 (moved, no forwarding address) under "account no longer exists" words
  'sendmail-09.eml', // two sessions in one transcript: each recipient's words stop where the next session starts
  'messagingserver-01.eml', // indented header summary above the recipients; "Original address:" is the same recipient
  'gmail-07.eml', // "Gmail will retry for 45 more hours": a delay, not a bounce
  'exim-14.eml', // Exim "(generated from alias@...)" names the alias, not a failed recipient
  'postfix-timeout-01.eml', // "Connection timed" wrapped before "out" in a final notice: expired
  'exim-15.eml', // Exim delay warning ("has not yet been delivered", "Delivery attempts will continue")
  'forwarded-01.eml', // a person forwards an Exim text notice as an attachment: the attached notice is read
  'postfix-smtputf8-02.eml', // internationalised recipients (josé@..., борис@пример.рф) in a text-only notice
  'exchange2003-01.eml', // Exchange 2003 'a@b on 4/2/2024 10:11 AM' lines (no words after the address)
  'list-01.eml', // 'The following recipients were rejected: a@b, c@d' on one line
  'googlegroups-01.eml', // 'Hello <sender>,' greets the sender; X-Failed-Recipients names the group
  'sendmail-delay-02.eml', // Sendmail transient errors: each recipient's 'Deferred:' words in the transcript
  // fixed from test/fixtures/bounces-review/pending (parser code, issue 3)
  'ses-event-bounce-01.eml', // SES event publishing ("eventType": "Bounce") inside an SNS envelope
  'ses-event-delay-01.eml', // SES event publishing "DeliveryDelay": a delay per delayed recipient
  'ses-json-suppressed-01.eml', // SES bounceSubType OnAccountSuppressionList without a diagnostic: suppressed
  'exchange-de-delay-01.eml', // German text-only Exchange delay notice ("Es wird weiterhin versucht")
  'exchange-fr-delay-01.eml', // French text-only Exchange delay notice ("La remise continuera d'être tentée")
  'double-bounce-01.eml', // qmail notice returning a DSN: the outer notice's recipient, not the inner DSN's
  'human-reply-01.eml', // a person's "Re: ... bounced?" reply: not a notice, no hard recipient
]

const byFile = new Map(labels.map((l) => [l.file, l]))

describe('bounce parser on the review set', () => {
  it('has the fixtures it claims', () => {
    expect(labels.length).toBeGreaterThanOrEqual(40)
    for (const f of FIXED) expect(byFile.has(f), f).toBe(true)
  })

  for (const file of FIXED) {
    it(`reads ${file} as labelled`, async () => {
      await expectReadAsLabelled(dir, byFile.get(file)!)
    })
  }

  it('keeps an overall floor on reason, hard-bounce and recipient accuracy', async () => {
    const { n, reason, hard, recipient } = await reviewAccuracy(dir, labels)
    expect(n).toBeGreaterThanOrEqual(60)
    expect(reason).toBeGreaterThanOrEqual(0.97)
    expect(hard).toBeGreaterThanOrEqual(0.98)
    expect(recipient).toBeGreaterThanOrEqual(0.98)
  })
})
