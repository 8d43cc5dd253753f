// Enforces the dependency rule of STYLE.md: core is pure (no workspace packages, no network,
// file system or HTTP modules); adapters import only core (and the conformance suite in tests);
// nothing imports examples or the root tests.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

function sourceFiles(dir: string): string[] {
  let out: string[] = []
  let entries: string[] = []
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out = out.concat(sourceFiles(p))
    else if (/\.(ts|js|cjs|mjs)$/.test(name)) out.push(p)
  }
  return out
}

function importsOf(file: string): string[] {
  // Comments are not imports (a JSDoc usage example must not count).
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  const specs: string[] = []
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"\n]+)['"]/gm
  for (let m = re.exec(text); m; m = re.exec(text)) specs.push(m[1]!)
  return specs
}

describe('dependency direction', () => {
  it('core imports no workspace package and no node:net, node:fs or node:http', () => {
    const files = sourceFiles(join(root, 'packages/core/src'))
    expect(files.length).toBeGreaterThan(0)
    const bad: string[] = []
    for (const f of files) {
      for (const s of importsOf(f)) {
        if (/^@bounce-guard\//.test(s) || s === 'haraka-plugin-bounce-guard') bad.push(`${relative(root, f)} -> ${s}`)
        if (/^(node:)?(net|fs|fs\/promises|http|https|http2|dgram|tls|child_process)$/.test(s)) bad.push(`${relative(root, f)} -> ${s}`)
      }
    }
    expect(bad).toEqual([])
  })

  it('adapters import only core among the workspace packages', () => {
    // The Haraka plugin is a store host (it opens the TypeORM store from its config), as are the
    // CLI and the report; every other package may import core only.
    const allowed: Record<string, RegExp> = {
      haraka: /^@bounce-guard\/(core|typeorm)$/,
      cli: /^@bounce-guard\/(core|typeorm|report)$/,
      report: /^@bounce-guard\/(core|typeorm)$/,
    }
    const bad: string[] = []
    const packages = readdirSync(join(root, 'packages')).filter((p) => p !== 'core')
    expect(packages.length).toBeGreaterThan(3)
    for (const pkg of packages) {
      const ok = allowed[pkg] ?? /^@bounce-guard\/core$/
      const dirs = pkg === 'haraka' ? ['index.js', 'lib', 'src'] : ['src']
      const files = dirs.flatMap((d) =>
        d.endsWith('.js') ? [join(root, 'packages', pkg, d)] : sourceFiles(join(root, 'packages', pkg, d)),
      )
      for (const f of files) {
        for (const s of importsOf(f)) {
          if (/^@bounce-guard\//.test(s) && !ok.test(s)) bad.push(`${relative(root, f)} -> ${s}`)
        }
      }
    }
    expect(bad).toEqual([])
  })

  it('no package source imports examples or tests', () => {
    const bad: string[] = []
    for (const f of sourceFiles(join(root, 'packages'))) {
      if (!/\/src\//.test(f)) continue
      for (const s of importsOf(f))
        if (/(^|\/)(examples|test)\//.test(s) || /\.\.\/\.\.\/(examples|test)/.test(s)) bad.push(`${relative(root, f)} -> ${s}`)
    }
    expect(bad).toEqual([])
  })

  it('the checker sees a forbidden import when there is one', () => {
    // Guard against a regex that silently matches nothing.
    expect(importsOf(fileURLToPath(import.meta.url))).toContain('node:fs')
  })
})
