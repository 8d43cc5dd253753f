/**
 * Text-only delay notices in other languages than English (Exchange / Office 365 and localised
 * Postfix or Exim templates) are delays, not bounces; final notices in those languages stay bounces.
 * The sentences are the ones those MTAs write; each notice is built around them here.
 */
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

function notice(subject: string, from: string, body: string[]): string {
  return [
    `From: ${from}`,
    'To: sales@shop.example.com',
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...body,
    '',
  ].join('\n')
}

const DAEMON = 'MAILER-DAEMON@mx.shop.example.com (Mail Delivery System)'

const DELAYS: [string, string][] = [
  [
    'German Exchange 2016+',
    notice('Übermittlung verzögert: Angebot', 'postmaster@shop.example.com', [
      'Die Zustellung an diese Empfänger oder Gruppen ist verzögert:',
      '',
      'einkauf@kunde.example.de',
      '',
      'Diese Nachricht wurde noch nicht zugestellt. Es wird weiterhin versucht, die Nachricht zuzustellen.',
      '',
      'Grund: 451 4.4.0 Primary target IP address responded with: "421 4.4.2 Connection dropped."',
    ]),
  ],
  [
    'German Exchange 2010',
    notice('Zustellung verzögert', 'postmaster@shop.example.com', [
      'Die Zustellung an folgende Empfänger oder Verteilerlisten wurde verzögert:',
      '',
      'einkauf@kunde.example.de',
      '#451 4.4.0 DNS query failed ##',
    ]),
  ],
  [
    'German Postfix template',
    notice('Verzögerte E-Mail', DAEMON, [
      'Dies ist das Mailsystem auf dem Rechner mx.shop.example.com.',
      '',
      '######## Dies ist nur eine Warnung, Sie müssen die Nachricht nicht erneut senden. ########',
      '',
      '<einkauf@kunde.example.de>: connect to mx.kunde.example.de[192.0.2.7]:25: Connection refused',
    ]),
  ],
  [
    'French Exchange',
    notice('Remise différée : Devis', 'postmaster@shop.example.com', [
      'La remise à ces destinataires ou groupes est différée :',
      '',
      'achats@client.example.fr',
      '',
      "Ce message n'a pas encore été remis. La remise continuera d’être tentée.",
      '',
      'Raison : 451 4.4.0 DNS query failed',
    ]),
  ],
  [
    'French Postfix template',
    notice('Courrier retardé', DAEMON, [
      "Ceci est le système de messagerie de l'hôte mx.shop.example.com.",
      '',
      "#### Ceci est seulement un avertissement, vous n'avez pas besoin de renvoyer votre message. ####",
      '',
      'Une nouvelle tentative sera effectuée plus tard.',
      '',
      '<achats@client.example.fr>: connect to mx.client.example.fr[192.0.2.9]:25: Connection timed out',
    ]),
  ],
  [
    'Spanish Exchange',
    notice('Entrega retrasada: Pedido', 'postmaster@shop.example.com', [
      'La entrega a estos destinatarios o grupos se ha retrasado:',
      '',
      'compras@cliente.example.es',
      '',
      'Este mensaje aún no se ha entregado. Se seguirá intentando la entrega.',
    ]),
  ],
  [
    'an Exchange delay subject in a language the body words are not known in',
    notice('Delivery delayed: Order', 'postmaster@shop.example.com', ['purchasing@client.example.pl', '', '451 4.4.0 DNS query failed']),
  ],
]

const FINALS: [string, string][] = [
  [
    'German final notice',
    notice('Unzustellbar: Angebot', 'postmaster@shop.example.com', [
      'Die Nachricht konnte nicht an folgende Empfänger zugestellt werden:',
      '',
      'einkauf@kunde.example.de',
      '',
      'Grund: 550 5.1.1 User unknown',
    ]),
  ],
  [
    'French final notice that names no new attempt',
    notice('Non remis : Devis', DAEMON, [
      "Votre message n'a pas pu être remis. Aucune nouvelle tentative ne sera effectuée.",
      '',
      '<achats@client.example.fr>: host mx.client.example.fr said: 550 5.1.1 User unknown',
    ]),
  ],
]

describe('localised delay notices', () => {
  for (const [name, raw] of DELAYS) {
    it(`reads a ${name} delay notice as a delay`, async () => {
      const r = await parseBounceMessage(raw)
      expect(r.kind).toBe('delay')
      expect(r.recipients.length).toBeGreaterThan(0)
      for (const rc of r.recipients) {
        expect(rc.action).toBe('delayed')
        expect(rc.classification.hard).toBe(false)
      }
    })
  }
  for (const [name, raw] of FINALS) {
    it(`keeps a ${name} a bounce`, async () => {
      const r = await parseBounceMessage(raw)
      expect(r.kind).toBe('bounce')
      expect(r.recipients[0]?.classification.reason).toBe('userunknown')
    })
  }
})
