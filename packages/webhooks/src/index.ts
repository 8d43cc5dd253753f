/**
 * @bounce-guard/webhooks: provider webhooks in (Amazon SES via SNS, SendGrid, Mailgun, Postmark,
 * SparkPost), normalised into Bounce Guard outcomes; signed webhooks out for Bounce Guard's decisions.
 */
export * from './types.js'
export { normalizeSes, SES_BOUNCE_VERDICTS, SES_DELAY_VERDICTS, type NormalizeSesOptions } from './providers/ses.js'
export { normalizeSendGrid, SENDGRID_BOUNCE_VERDICTS, SENDGRID_DROP_VERDICTS } from './providers/sendgrid.js'
export { normalizeMailgun, MAILGUN_VERDICTS } from './providers/mailgun.js'
export { normalizePostmark, parsePostmarkJson, POSTMARK_TYPES, type PostmarkTypeMapping } from './providers/postmark.js'
export { normalizeSparkPost, SPARKPOST_BOUNCE_CLASSES } from './providers/sparkpost.js'
export type { ProviderVerdict } from './classify-remote.js'
export { createSnsVerifier, snsStringToSign, isSnsUrl, asSnsMessage, SNS_HOST_PATTERN } from './auth/sns.js'
export type { SnsMessage, SnsVerifier, SnsVerifierOptions, SnsVerifyFailure } from './auth/sns.js'
export { verifySendGridSignature, verifyMailgunSignature, checkBasicAuth, sendGridPublicKey } from './auth/signatures.js'
export * from './handler.js'
export * from './signing.js'
export * from './notifier.js'
