/**
 * Which mailbox provider stands behind a recipient domain. Big providers host many domains under
 * other names (Google Workspace, Office 365 tenants), so the domain alone rarely tells: the MX host
 * that answered does (`aspmx.l.google.com`, `<tenant>.mail.protection.outlook.com`). A
 * `ProviderResolver` knows the well-known domains and MX host suffixes (`PROVIDER_DOMAIN_HINTS`),
 * takes user additions, and learns domain -> provider from observed MX hosts and classifications.
 * Pure and in memory; no DNS lookups (feed it `remoteMta` from your MTA).
 */
import { PROVIDER_DOMAIN_HINTS } from './rules/hints.js'
import type { BounceEvent } from './types.js'

/** Most learned domain -> provider pairs kept (the oldest are forgotten first). */
export const MAX_LEARNED_PROVIDERS = 200_000

function clean(h: string): string {
  return h.trim().toLowerCase().replace(/\.$/, '')
}

/** Maps domains and MX hosts to provider names, and remembers what it learned. */
export class ProviderResolver {
  readonly #hints: Array<readonly [string, string]>
  readonly #learned = new Map<string, string>()

  /**
   * @param extra - domain or MX host suffix -> provider, checked before the built-in list
   *   (e.g. `{ 'acme-corp.com': 'gmail', 'mx.hosting.example': 'hosting' }`). @default {}
   */
  constructor(extra: Readonly<Record<string, string>> = {}) {
    this.#hints = [...Object.entries(extra).map(([k, v]) => [clean(k), String(v)] as const), ...PROVIDER_DOMAIN_HINTS]
  }

  /** The provider of a host name by suffix (`mx1.mail.protection.outlook.com` -> `microsoft`), if known. */
  byHost(host: string | undefined): string | undefined {
    if (typeof host !== 'string' || host.length === 0) return undefined
    const h = clean(host)
    for (const [suffix, provider] of this.#hints) {
      if (h === suffix || h.endsWith('.' + suffix)) return provider
    }
    return undefined
  }

  /** The provider of a recipient domain: learned first, then the well-known list. */
  byDomain(domain: string): string | undefined {
    if (typeof domain !== 'string') return undefined
    const d = clean(domain)
    return this.#learned.get(d) ?? this.byHost(d)
  }

  /** Remember that `domain` is served by `provider`. */
  learn(domain: string, provider: string): void {
    const d = clean(domain)
    if (this.#learned.get(d) === provider) return
    if (this.#learned.size >= MAX_LEARNED_PROVIDERS) this.#learned.delete(this.#learned.keys().next().value as string)
    this.#learned.set(d, provider)
  }

  /**
   * The provider of an outcome: the MX host that answered first, then the classification's
   * provider, then the domain. Learns the domain's provider from the first two.
   */
  attribute(event: Pick<BounceEvent, 'domain' | 'classification'>, remoteMta?: string): string | undefined {
    const byMx = this.byHost(remoteMta)
    if (byMx !== undefined) {
      this.learn(event.domain, byMx)
      return byMx
    }
    const byClass = event.classification?.provider
    if (byClass !== undefined) {
      if (this.byHost(event.domain) === undefined) this.learn(event.domain, byClass)
      return byClass
    }
    return this.byDomain(event.domain)
  }

  /** Learned pairs, for export. */
  learned(): Record<string, string> {
    return Object.fromEntries(this.#learned)
  }
}

export { PROVIDER_DOMAIN_HINTS } from './rules/hints.js'
