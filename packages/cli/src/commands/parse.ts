import type { Command } from 'commander'

// Placeholder: the 'parse' command is being written (see the issue tracker).
export function register(_program: Command): void {}
