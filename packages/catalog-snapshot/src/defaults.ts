/** Defaults of the snapshot options, apart from snapshot.ts so that the CLI can show them in `--help` without loading pg. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_APPLICATION_NAME = "catalog-snapshot";
/**
 * One extra connection: since most definitions are composed on the client, the server's share of
 * a large snapshot is about a third of the client's, which one more backend hides; more backends
 * only compete with the client for CPU when both share a machine (10,000 tables on 2 cores: 2
 * connections 1.27 s, 3 1.38 s, 4 1.41 s). A large remote server may gain from `--jobs`.
 */
export const DEFAULT_MAX_CONNECTIONS = 2;
/** lock_timeout of the catalog reads on connections the snapshot opens itself. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
