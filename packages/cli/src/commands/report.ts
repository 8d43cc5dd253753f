import type { Command } from 'commander'

// Placeholder: the 'report' command is being written (see the issue tracker).
export function register(_program: Command): void {}
