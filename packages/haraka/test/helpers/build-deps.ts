/**
 * The plugin runs inside Haraka, which `require()`s it, and the plugin `require()`s
 * `@bounce-guard/core` and `@bounce-guard/typeorm`: their `dist/index.cjs`. Tests run from a clean
 * checkout, so a test that starts the real plugin calls `ensureCjsBuilds()` first. It builds the
 * CommonJS entry of each package with tsup, only when `dist/index.cjs` is missing or older than a
 * file in `src/`. The build goes to a private temporary folder and is moved into `dist/` with an
 * atomic rename, so a test file building the same package at the same time (or the packed-output
 * smoke test) never sees a half-written file.
 *
 * Why not load the TypeScript sources through tsx inside Haraka: it needs `--conditions=source`
 * and a loader flag in Haraka's `NODE_OPTIONS`, slows Haraka's start, and would test a module
 * graph that no user runs. The built files are what an operator installs.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

function newestMtime(dir: string): number {
  let newest = 0
  let entries: string[] = []
  try {
    entries = readdirSync(dir)
  } catch {
    return 0
  }
  for (const name of entries) {
    const p = join(dir, name)
    const st = statSync(p)
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs)
  }
  return newest
}

/** True when `packages/<name>/dist/index.cjs` exists and is newer than every file in its `src/`. */
export function isCjsBuildFresh(name: string): boolean {
  const pkg = join(REPO_ROOT, 'packages', name)
  const out = join(pkg, 'dist', 'index.cjs')
  if (!existsSync(out)) return false
  return statSync(out).mtimeMs >= newestMtime(join(pkg, 'src'))
}

/**
 * Build `dist/index.cjs` of each named workspace package (in order) when stale.
 * @param names package folder names under `packages/` @default ['core', 'typeorm']
 * @returns the names that were rebuilt
 */
export function ensureCjsBuilds(names: readonly string[] = ['core', 'typeorm']): string[] {
  const rebuilt: string[] = []
  const tsup = join(REPO_ROOT, 'node_modules/.bin/tsup')
  for (const name of names) {
    if (isCjsBuildFresh(name)) continue
    const pkg = join(REPO_ROOT, 'packages', name)
    const tmp = mkdtempSync(join(tmpdir(), `bg-build-${name}-`))
    try {
      execFileSync(tsup, ['src/index.ts', '--format', 'cjs', '--target', 'node20', '--out-dir', tmp, '--silent'], {
        cwd: pkg,
        stdio: 'pipe',
      })
      mkdirSync(join(pkg, 'dist'), { recursive: true })
      const staged = join(pkg, 'dist', `.index.cjs.${process.pid}.tmp`)
      copyFileSync(join(tmp, 'index.cjs'), staged)
      renameSync(staged, join(pkg, 'dist', 'index.cjs'))
      rebuilt.push(name)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }
  return rebuilt
}
