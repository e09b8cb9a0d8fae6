// @dieu44/backup-marker: a fresh, verified, secret-free record of a pg_dump backup.
export { type CreateOptions, type CreateProgress, createBackup } from "./create.js";
export { formatDuration, parseDuration } from "./duration.js";
export { markerPath, readMarker, writeMarker } from "./marker-file.js";
export { detectFormat, type RegisterOptions, registerBackup } from "./register.js";
export * from "./schema.js";
export { type VerifyOptions, verifyBackup } from "./verify.js";
