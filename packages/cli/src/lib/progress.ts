/**
 * A byte-based progress bar on stderr (cli-progress) for large imports. Shown when the input is a
 * file larger than `threshold` and stderr is a terminal, or always with `--progress`; never with
 * `--no-progress`. Standard output stays clean for the summary.
 */
import cliProgress from 'cli-progress'

/** A started bar; `update` with bytes read, `stop` at the end. */
export interface ByteProgress {
  update(bytes: number): void
  stop(): void
}

const NOOP: ByteProgress = { update() {}, stop() {} }

/** Files larger than this get a bar by default (1 MiB). */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024

/**
 * Start a progress bar when it is useful.
 * @param total - file size in bytes (undefined for standard input: no bar)
 * @param mode - `true` forces a bar, `false` disables it, `undefined` decides by size and terminal
 */
export function startProgress(total: number | undefined, mode: boolean | undefined, label: string): ByteProgress {
  if (total === undefined || mode === false) return NOOP
  if (mode === undefined && (total < PROGRESS_THRESHOLD_BYTES || !process.stderr.isTTY)) return NOOP
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted} left`,
      noTTYOutput: mode === true,
      notTTYSchedule: 500,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0)
  return {
    update: (bytes) => bar.update(Math.min(bytes, total)),
    stop: () => {
      bar.update(total)
      bar.stop()
    },
  }
}
