import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// Workspace packages resolve to their sources, so tests run from a clean checkout without a build.
export default defineConfig({
  resolve: {
    alias: {
      '@bounce-guard/core': src('core'),
      '@bounce-guard/store-conformance': src('store-conformance'),
      '@bounce-guard/typeorm': src('typeorm'),
      '@bounce-guard/nodemailer': src('nodemailer'),
      '@bounce-guard/cli': src('cli'),
      '@bounce-guard/webhooks': src('webhooks'),
      '@bounce-guard/report': src('report'),
    },
  },
  test: {
    // .ci/run sets BG_TEST_REPORT to get machine-readable counts for its summary line.
    reporters: process.env.BG_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.BG_TEST_REPORT ? { json: process.env.BG_TEST_REPORT } : undefined,
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    setupFiles: [fileURLToPath(new URL('./test/setup.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
