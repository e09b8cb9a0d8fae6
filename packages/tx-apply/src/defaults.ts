/**
 * The defaults the command line shows in its usage, apart from options.ts: that module hashes
 * (node:crypto), and `--help` should not load it.
 */
export const DEFAULT_LOCK_TIMEOUT = "5s";
export const DEFAULT_STATEMENT_TIMEOUT = "60s";
/**
 * Four in flight hide the round trip on a local socket (1,000 DDL statements, bare loop: 1.33 s
 * at 1, 1.21 s at 2, 1.02 s at 4 and at 8).
 */
export const DEFAULT_PIPELINE_DEPTH = 4;
