/** The bounce-message parser: public API. */
export { parseBounceMessage, DEFAULT_MAX_BYTES } from './parse.js'
export { splitMbox, parseMbox, isMbox } from './mbox.js'
export { AUTO_REPLY_SUBJECTS } from './auto-reply.js'
export type { BounceKind, BounceRecipient, BounceReport, FeedbackInfo, ParseBounceOptions } from './types.js'
