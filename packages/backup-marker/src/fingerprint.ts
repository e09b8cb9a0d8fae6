/**
 * catalog-snapshot fingerprints of a database's catalog (every non-system schema): recorded at
 * backup time, compared with the restored copy by `verify --restore-to`.
 */
import { snapshot } from "@dieu44/catalog-snapshot";
import type pg from "pg";

/** The fingerprint as seen by a fresh transaction of its own; throws when catalog-snapshot fails. */
export async function catalogFingerprint(client: pg.Client): Promise<string> {
  return (await snapshot(client, { applicationName: "backup-marker" })).fingerprint;
}

/**
 * The fingerprint inside the caller's open transaction (the one whose snapshot pg_dump imports),
 * or null when it cannot be taken: the backup itself must not fail for it.
 */
export async function fingerprintInTransaction(client: pg.Client): Promise<string | null> {
  try {
    return (await snapshot(client, { useCurrentTransaction: true })).fingerprint;
  } catch {
    return null;
  }
}
