/** Defaults of the snapshot options, apart from snapshot.ts so that the CLI can show them in `--help` without loading pg. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_APPLICATION_NAME = "catalog-snapshot";
export const DEFAULT_MAX_CONNECTIONS = 4;
/** lock_timeout of the catalog reads on connections the snapshot opens itself. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
