/**
 * `pnpm bench classify`: classifications per second on one core over a mixed set of distinct real
 * reply texts (every built-in rule's examples plus wrapped variants: Diagnostic-Code values,
 * Postfix "host ... said:" lines, Nodemailer error messages, other recipients and IPs), and the
 * heap before and after 10 million classifications. Prints figures; asserts nothing. No result is
 * cached: every call parses and scans its text.
 *
 * Where the time goes (CPU profiles of parse + classify on this corpus, 2-core shared VM, load 3-5,
 * Nov 2026). A reply string that is ASCII (2,092 of the 2,116 here) takes a fast path: one
 * TextEncoder copy, the parse done by hand over the bytes (reply-bytes.ts), the keyword scan over
 * the same bytes, no intermediate strings unless a pattern or a retry delay needs the text; the
 * rest takes the general path. Per reply, ~1.7 us CPU in all (was ~2.5 us; same rules, in-process
 * A/B): the automaton walk ~40% (~110 characters a reply, prefix words and text; ~4.5 ns a
 * character when the table rows are in cache, ~6.5 ns on this stream of distinct replies, whose
 * keywords' rows are cold in a 2.4 MB table: the same reply repeated classifies in ~1.25 us), the
 * byte parse ~11%, the copy ~6%, candidate confirmation and the result ~6%, building texts that
 * are no slice of the reply (several lines, repeated codes) and pattern texts ~8%, the rest thin.
 * The floor of a V8 loop over bytes is ~1 ns a byte and a walk over a table that fits L1 ~2.8 ns,
 * so 1 M/s (1 us a reply) is out of reach while every reply's ~110 characters go through a
 * table walk: the walk alone costs ~0.5-0.7 us here.
 *
 * Tried and measured no better in place (kept out): a compact automaton (full rows only for the
 * root, branching and shallow states; one-child states as symbol/child/fail arrays along each
 * keyword, 230 KB instead of 2.4 MB; ~1 ns a character slower to walk, the misses it saves about
 * paid for), breadth- or depth-first state orders, rows padded to a power of two (shift instead of
 * multiply), a reduced alphabet, two interleaved walkers over the two halves of the text, feeding
 * the prefix words from one buffer instead of token by token. Reading characters with charCodeAt
 * from strings of mixed internal forms costs ~2-3 ns each; TextEncoder.encodeInto copies ~120
 * characters in ~60 ns, so everything reads bytes.
 *
 * Tried later (Nov 2026, load 5-11 on the 2 cores, where a reply costs ~6 us CPU and the walk
 * ~20-26 ns a character: the table is mostly out of cache; no exact skipping gain measured):
 * - Wu-Manber block shifts: the keywords (1,650 distinct, 160 of them under 8 characters) are
 *   short and English-like, as are the replies. Simulated over the corpus, long keywords alone
 *   (m = 10, 3-4 character blocks) leave 29-36 windows per 122-character reply, and the short
 *   ones need a check at about every position: no fewer table reads than the walk.
 * - A shallow automaton (keywords cut to 8-10 symbols, 4,000-5,900 states instead of 23,000;
 *   the rest of each longer keyword compared where its start is met, findings re-sorted into the
 *   full scan's order) over the scanned text normalised into one buffer: the walk alone ~25%
 *   faster, but building the buffer and the comparisons took it back (in place 1.06x slower).
 * - Two walkers over the text's halves at once (the first runs on until its state equals the
 *   second's): in alternating processes 1.005x the time (noise +-15% a pair at this load).
 * - Columns ordered so that letters, space and punctuation share one cache line of a row padded
 *   to 64: no change (26.4 vs 26.1 ns a character).
 * - domainProvider without slicing (a hash of each label's suffix, read from the end): ~30% faster
 *   on unknown domains, slower on known ones; 1-3% of a classification with a context.
 * - The walk in WebAssembly (Nov 2026, load 3-6 on the 2 cores): a hand-written module (the loop
 *   of `feedAscii`: class map, multiply, 16-bit table load, output states >= firstOut written to
 *   an output area, returning (count << 16) | end state), assembled by a ~250-line WAT assembler,
 *   compiled synchronously; one memory per matcher holding the same 2.4 MB table (the JS `delta`
 *   a view on it) and the classifier's two input buffers, so encodeInto wrote into wasm memory
 *   with no copy; JS expanded the payloads as before. classify and reply-bytes tests passed (not
 *   checked further: the 24,000-set matcher test feeds its own buffers, so the JS loop).
 *   The walk alone (built-in keywords over the rules' ASCII examples, encodeInto + feedAscii):
 *   1.29x, 1.36x, 1.57x, 1.58x in one process (e.g. 14.9 -> 9.5 ns a character), 17.4 -> 12.2 ns
 *   in 8 alternating process pairs. Inside parse + classify the walk seems bound by the table's
 *   cache misses: profile share 47% (scanBytes, JS walk inlined) -> 42% (wasm 35% + scanBytes
 *   7%). Parse + classify per CPU-second, medians of alternating processes: 187.5k -> 196.1k (8
 *   pairs, load ~4.2-4.6), 195.4k -> 205.0k (6 pairs; 211.1k with pieces under 24 bytes left to
 *   JS, no wasm call for short prefix tokens), each process +-15-30%; in one process, classifiers
 *   alternating by rounds: +2.7%, +1.5%, -0.9%, -0.4%. A 32-bit table of premultiplied row
 *   offsets (no multiply, 4.8 MB): no better than 16-bit (10.4 vs 9.5, 11.5 vs 14.1, 7.3 vs 7.3
 *   ns a character). The walk alone gains >30% in isolation, parse + classify ~0-8%: not kept.
 *   Two walkers in lock step over the text's halves in the same module (no synchronisation or
 *   output work yet, so an upper bound): 1.14x, 1.30x, 1.33x over one wasm walker (load ~8.3),
 *   which would leave parse + classify short of 15% too. Whatever walks the 2.4 MB table a
 *   character at a time pays its misses; only a much smaller hot table or fewer steps per reply
 *   can reach 1 us.
 * The specification a faster matcher must meet is packages/core/test/keyword-matcher.test.ts.
 */
import { BUILTIN_RULES, classifyReply, createClassifier, parseSmtpReply } from '@bounce-guard/core'

function corpus(): string[] {
  const base = new Set<string>()
  for (const rule of BUILTIN_RULES) {
    if (!rule.keywords) continue // table rules' examples are synthetic; keep real texts only
    for (const e of rule.examples) base.add(e)
  }
  const out = new Set<string>(base)
  let i = 0
  for (const e of base) {
    i++
    const flat = e.replace(/\n/g, ' ')
    out.add(`Diagnostic-Code: smtp; ${flat}`)
    out.add(`host mx${i}.example.net[192.0.2.${i % 250}] said: ${flat} (in reply to RCPT TO command)`)
    out.add(`Can't send mail - all recipients were rejected: ${flat.replace(/someone@/g, `user${i}@`)}`)
  }
  return [...out]
}

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export async function run(): Promise<void> {
  const texts = corpus()
  const replies = texts.map((t) => parseSmtpReply(t))
  const classifier = createClassifier()
  // Warm-up.
  for (let r = 0; r < 50; r++) for (const t of texts) classifier.classify(t)
  const avgLen = Math.round(texts.reduce((a, t) => a + t.length, 0) / texts.length)
  console.log(`corpus: ${texts.length} distinct reply texts (average ${avgLen} chars), ${BUILTIN_RULES.length} rules`)

  const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
  // Wall time and this process's CPU time, each the median of several rounds: on a shared, loaded
  // machine the CPU-time figure is the one that shows what one core does, and a median of rounds
  // is steadier than one long run (the best round is printed too).
  const ROUNDS = 5
  const measure = (label: string, fn: (i: number) => unknown, n: number): void => {
    const walls: number[] = []
    const cpus: number[] = []
    let sink = 0
    const per = Math.ceil(n / ROUNDS)
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      for (let i = r * per; i < (r + 1) * per; i++) if (fn(i) !== undefined) sink++
      const ns = Number(process.hrtime.bigint() - t0)
      const c = process.cpuUsage(c0)
      walls.push((per / ns) * 1e9)
      cpus.push((per / ((c.user + c.system) * 1000)) * 1e9)
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number
    const cpu = median(cpus)
    console.log(
      `${label}: ${fmt(median(walls))} /s wall, ${fmt(cpu)} /s per CPU-second (${(1e9 / cpu).toFixed(0)} ns CPU each; medians of ${ROUNDS} rounds of ${fmt(per)}, best ${fmt(Math.max(...cpus))} /CPU-s${sink > 0 ? '' : ', no result?'})`,
    )
  }
  console.log(
    `load average: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  )
  const N = 2_000_000
  const L = texts.length
  measure('classifyReply(string)  parse + classify', (i) => classifier.classify(texts[i % L]!), N)
  measure('classifyReply(SmtpReply) classify only', (i) => classifier.classify(replies[i % L]!), N)
  measure('parseSmtpReply(string) parse only     ', (i) => parseSmtpReply(texts[i % L]!), N)
  measure('classifyReply via default classifier  ', (i) => classifyReply(texts[i % L]!, { recipientDomain: 'example.com' }), N)

  gc()
  const before = process.memoryUsage().heapUsed
  const M = Number(process.env.BG_BENCH_MEMORY_CALLS ?? 10_000_000)
  const c0 = process.cpuUsage()
  for (let i = 0; i < M; i++) classifier.classify(texts[i % L]!)
  const cu = process.cpuUsage(c0)
  const s = (cu.user + cu.system) / 1e6
  gc()
  const after = process.memoryUsage().heapUsed
  console.log(
    `memory: heapUsed ${(before / 1048576).toFixed(1)} MiB before, ${(after / 1048576).toFixed(1)} MiB after ${M.toLocaleString('en-US')} classifications (${fmt(M / s)} /s per CPU-second)${(globalThis as { gc?: unknown }).gc ? '' : ' [run node with --expose-gc for exact figures]'}`,
  )
}
