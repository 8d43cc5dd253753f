import { describe, expect, it } from 'vitest'
import { htmlToText } from '../src/bounce/mime.js'

/** The regular-expression chain `htmlToText` was first written as: the scans must give the same text. */
function byRegex(html: string): string {
  return html
    .replace(/<(?:style|script)[^>]{0,200}>[^<]{0,100000}<\/(?:style|script)>/gi, ' ')
    .replace(/<br[^>]{0,50}>|<\/(?:p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]{0,2000}>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}

describe('htmlToText', () => {
  it('reads a small HTML notice (style and script blocks leave one space each)', () => {
    const html =
      '<html><head><STYLE type="text/css">p { color: red }</STYLE><script>var a = 1</script></head>' +
      '<body><p>Delivery to <b>a@example.org</b> failed.</p><div>550 5.1.1 &lt;a@example.org&gt;: User unknown</div>' +
      'Tom&amp;Jerry&nbsp;&quot;x&quot; it&#39;s<br/>done<BR>end</body></html>'
    expect(htmlToText(html)).toBe(
      '  Delivery to a@example.org failed.\n550 5.1.1 <a@example.org>: User unknown\nTom&Jerry "x" it\'s\ndone\nend',
    )
  })

  it('decodes each entity once (&amp;lt; is &lt;)', () => {
    expect(htmlToText('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;')
  })

  it('keeps a < whose > is out of reach, and tags too long to be tags', () => {
    expect(htmlToText(`a < b ${'x'.repeat(3000)} > c<i>d</i>`)).toBe(`a < b ${'x'.repeat(3000)} > cd`)
    expect(htmlToText('1 < 2 and no closing')).toBe('1 < 2 and no closing')
  })

  it('gives the same text as the regular-expression chain on generated markup', () => {
    const pieces = ['<', '>', '</', 'style', 'STYLE', 'Script', 'script', 'br', 'BR', 'bR ', 'p', 'DiV', 'tr', 'li', 'h1', 'H9', 'hx']
    pieces.push(' ', 'a', '\n', '&', 'amp;', 'lt;', 'gt;', 'nbsp;', 'quot;', '#39;', ';', 'x'.repeat(60), 'y'.repeat(210))
    pieces.push('z'.repeat(2100), 'ſtyle', 'é', '&amp;lt;')
    let seed = 7
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    const differ: string[] = []
    for (let t = 0; t < 20_000; t++) {
      let s = ''
      for (let i = next(30); i > 0; i--) s += pieces[next(pieces.length)]
      if (htmlToText(s) !== byRegex(s)) differ.push(s)
    }
    for (const n of [99_999, 100_000, 100_001])
      for (const m of [199, 200, 201])
        for (const b of [49, 50, 51]) {
          const s = `a<style${'q'.repeat(m)}>${'a'.repeat(n)}</STYLE>b<br${'r'.repeat(b)}>c</H3>d<script>x</style>`
          if (htmlToText(s) !== byRegex(s)) differ.push(s.slice(0, 80))
        }
    expect(differ.slice(0, 3)).toEqual([])
  })
})
