/**
 * @dieu44/catalog-snapshot: a consistent, read-only, deterministic JSON snapshot of a PostgreSQL
 * catalog. Library API: `snapshot`, the fingerprint helpers, the document schema and its types.
 */
export { canonicalJson, compareText, computeFingerprint, FINGERPRINT_DOMAIN } from "./fingerprint.js";
export { compactJsonTextPieces, jsonTextPieces } from "./output.js";
export { MIN_SERVER_VERSION_NUM } from "./queries.js";
export * from "./schema.js";
export {
  CatalogLockTimeoutError,
  DEFAULT_APPLICATION_NAME,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  PARALLEL_MIN_TABLES,
  type SnapshotConnectionOptions,
  type SnapshotOptions,
  snapshot,
} from "./snapshot.js";
