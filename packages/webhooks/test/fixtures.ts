/**
 * Provider payloads shaped after the providers' documented examples (field names and values as in
 * the docs; addresses and ids adapted per test).
 */

/** SES notification-format Bounce with a DSN (AWS "notification-examples", bounce with DSN). */
export function sesBounce(
  email: string,
  opts: { type?: string; subType?: string; diagnosticCode?: string; status?: string; feedbackId?: string; eventPublishing?: boolean } = {},
) {
  const rcpt: Record<string, string> = { emailAddress: email }
  if (opts.diagnosticCode !== undefined) {
    rcpt.status = opts.status ?? '5.1.1'
    rcpt.action = 'failed'
    rcpt.diagnosticCode = opts.diagnosticCode
  }
  return {
    [opts.eventPublishing ? 'eventType' : 'notificationType']: 'Bounce',
    bounce: {
      bounceType: opts.type ?? 'Permanent',
      reportingMTA: 'dns; email.example.com',
      bouncedRecipients: [rcpt],
      bounceSubType: opts.subType ?? 'General',
      timestamp: '2016-01-27T14:59:38.237Z',
      feedbackId: opts.feedbackId ?? '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
      remoteMtaIp: '127.0.2.0',
    },
    mail: {
      timestamp: '2016-01-27T14:59:38.237Z',
      source: 'john@example.com',
      sourceArn: 'arn:aws:ses:us-east-1:888888888888:identity/example.com',
      sourceIp: '127.0.3.0',
      sendingAccountId: '123456789012',
      messageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
      destination: [email],
      headersTruncated: false,
      headers: [{ name: 'From', value: '"John Doe" <john@example.com>' }],
      commonHeaders: {
        from: ['"John Doe" <john@example.com>'],
        to: [email],
        messageId: '<custom-message-ID@example.com>',
        subject: 'Hello',
      },
    },
  }
}

/** SES Complaint (AWS example "complaint notification with a feedback report"). */
export function sesComplaint(email: string, feedbackType = 'abuse') {
  return {
    notificationType: 'Complaint',
    complaint: {
      userAgent: 'AnyCompany Feedback Loop (V0.01)',
      complainedRecipients: [{ emailAddress: email }],
      complaintFeedbackType: feedbackType,
      arrivalDate: '2016-01-27T14:59:38.237Z',
      timestamp: '2016-01-27T14:59:38.237Z',
      feedbackId: '000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000',
    },
    mail: {
      timestamp: '2016-01-27T14:59:38.237Z',
      messageId: '000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000',
      source: 'john@example.com',
      destination: [email],
    },
  }
}

/** SES event-publishing Delivery. */
export function sesDelivery(email: string) {
  return {
    eventType: 'Delivery',
    mail: {
      timestamp: '2016-10-19T23:20:52.240Z',
      source: 'sender@example.com',
      messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
      destination: [email],
    },
    delivery: {
      timestamp: '2016-10-19T23:21:04.133Z',
      processingTimeMillis: 11893,
      recipients: [email],
      smtpResponse: '250 2.6.0 Message received',
      reportingMTA: 'mta.example.com',
    },
  }
}

/** SES event-publishing DeliveryDelay. */
export function sesDelay(email: string) {
  return {
    eventType: 'DeliveryDelay',
    mail: {
      timestamp: '2020-06-16T00:15:40.641Z',
      source: 'sender@example.com',
      messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
      destination: [email],
    },
    deliveryDelay: {
      timestamp: '2020-06-16T00:25:40.095Z',
      delayType: 'TransientCommunicationFailure',
      expirationTime: '2020-06-16T00:25:40.914Z',
      delayedRecipients: [{ emailAddress: email, status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host' }],
    },
  }
}

/** SendGrid Event Webhook events (docs "Event Webhook reference" examples). */
export function sendGridEvents(email: string) {
  const base = {
    email,
    timestamp: 1513299569,
    'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
    category: 'cat facts',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
  }
  return [
    {
      ...base,
      event: 'bounce',
      sg_event_id: 'sg-bounce-1',
      reason: '550 5.1.1 The email account that you tried to reach does not exist.',
      status: '5.1.1',
      type: 'bounce',
      bounce_classification: 'Invalid Address',
    },
    {
      ...base,
      email: `blocked-${email}`,
      event: 'bounce',
      sg_event_id: 'sg-blocked-1',
      reason: '550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org',
      status: '5.7.1',
      type: 'blocked',
      bounce_classification: 'Reputation',
    },
    { ...base, email: `deferred-${email}`, event: 'deferred', sg_event_id: 'sg-deferred-1', response: '400 try again later', attempt: '5' },
    { ...base, email: `delivered-${email}`, event: 'delivered', sg_event_id: 'sg-delivered-1', response: '250 OK' },
    { ...base, email: `spam-${email}`, event: 'spamreport', sg_event_id: 'sg-spam-1' },
    { ...base, email: `dropped-${email}`, event: 'dropped', sg_event_id: 'sg-dropped-1', reason: 'Bounced Address', status: '5.0.0' },
    { ...base, event: 'open', sg_event_id: 'sg-open-1', useragent: 'Mozilla/4.0', ip: '255.255.255.255' },
  ]
}

/** Mailgun "failed" permanent event (docs webhook sample), with its signature block. */
export function mailgunFailed(
  email: string,
  signature: Record<string, string>,
  opts: { severity?: string; code?: number; message?: string; id?: string; reason?: string } = {},
) {
  return {
    signature,
    'event-data': {
      id: opts.id ?? 'G9Bn5sl1TC6nu79C8C0bwg',
      timestamp: Date.now() / 1000,
      'log-level': 'error',
      event: 'failed',
      severity: opts.severity ?? 'permanent',
      reason: opts.reason ?? 'bounce',
      'delivery-status': {
        'attempt-no': 1,
        message:
          opts.message ??
          "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
        code: opts.code ?? 550,
        description: '',
        'mx-host': 'gmail-smtp-in.l.google.com',
        'session-seconds': 0.13,
      },
      flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
      envelope: { transport: 'smtp', sender: 'bob@sandbox.mailgun.org', 'sending-ip': '209.61.154.250', targets: email },
      message: {
        headers: {
          to: email,
          'message-id': '20130503192659.13651.20287@sandbox.mailgun.org',
          from: 'Bob <bob@sandbox.mailgun.org>',
          subject: 'Test permanent_fail webhook',
        },
        attachments: [],
        size: 111,
      },
      recipient: email,
      'recipient-domain': email.split('@')[1],
      storage: { url: 'https://se.api.mailgun.net/v3/domains/sandbox.mailgun.org/messages/message_key', key: 'message_key' },
      campaigns: [],
      tags: ['my_tag_1'],
      'user-variables': {},
    },
  }
}

/** Postmark Bounce webhook (docs sample). */
export function postmarkBounce(email: string, opts: { id?: number; type?: string; typeCode?: number; details?: string } = {}) {
  return {
    RecordType: 'Bounce',
    MessageStream: 'outbound',
    ID: opts.id ?? 4323372036,
    Type: opts.type ?? 'HardBounce',
    TypeCode: opts.typeCode ?? 1,
    Name: 'Hard bounce',
    Tag: 'Test',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Metadata: { a_key: 'a_value' },
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: opts.details ?? 'Test bounce details',
    Email: email,
    From: 'sender@example.com',
    BouncedAt: '2019-11-05T16:33:54.9070259Z',
    DumpAvailable: true,
    Inactive: true,
    CanActivate: true,
    Subject: 'Test subject',
    Content: 'Test content',
  }
}

/** SparkPost batch (docs event samples). */
export function sparkPostBatch(email: string) {
  const common = {
    customer_id: '1',
    friendly_from: 'sender@example.com',
    msg_from: 'sender@example.com',
    message_id: '0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e',
    timestamp: '1460989507',
    campaign_id: 'Example Campaign Name',
    transmission_id: '65832150921904138',
  }
  return [
    {
      msys: {
        message_event: {
          ...common,
          type: 'bounce',
          bounce_class: '10',
          error_code: '550',
          raw_reason: `550 5.1.1 <${email}>: Recipient address rejected: User unknown in virtual mailbox table`,
          reason: '550 5.1.1 ...<<Recipient address rejected: User unknown in virtual mailbox table',
          event_id: 'sp-bounce-1',
          rcpt_to: email,
          raw_rcpt_to: email,
        },
      },
    },
    {
      msys: {
        message_event: {
          ...common,
          type: 'delay',
          bounce_class: '22',
          error_code: '452',
          raw_reason: '452 4.2.2 The email account that you tried to reach is over quota.',
          event_id: 'sp-delay-1',
          rcpt_to: `full-${email}`,
          num_retries: '2',
        },
      },
    },
    { msys: { message_event: { ...common, type: 'spam_complaint', fbtype: 'abuse', event_id: 'sp-fbl-1', rcpt_to: `fbl-${email}` } } },
    { msys: { message_event: { ...common, type: 'delivery', event_id: 'sp-delivery-1', rcpt_to: `ok-${email}` } } },
    { msys: { track_event: { type: 'click', event_id: 'sp-click-1' } } },
  ]
}
