/**
 * The demo's mailing list: a few recipients per provider, most of them healthy, and one message
 * whose From domain fails DMARC. Every message goes to one recipient, as a campaign does.
 */

/** One message of a campaign. */
export interface CampaignMessage {
  to: string
  /** @default the campaign sender */
  from?: string
}

/** Who sends the newsletter. */
export const SENDER = 'Shop News <news@shop.example>'

/** The list, in sending order. */
export const CAMPAIGN: CampaignMessage[] = [
  { to: 'ana@gmail.test' },
  { to: 'old.friend@gmail.test' },
  { to: 'bruno@gmail.test' },
  { to: 'ivy@gmail.test' },
  { to: 'jo@gmail.test', from: 'Partner Deals <offers@partner-news.test>' },
  { to: 'carla@outlook.test' },
  { to: 'gone@outlook.test' },
  { to: 'dan@outlook.test' },
  { to: 'erin@outlook.test' },
  { to: 'frank@yahoo.test' },
  { to: 'grace@yahoo.test' },
  { to: 'hank@yahoo.test' },
  { to: 'kim@smallbiz.test' },
]
