/**
 * Stable, human-readable identities of catalog objects (the scheme is documented in schema.ts).
 */

const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;

/** A name as written in an identity: bare when it is a plain identifier, else double-quoted. */
export function quoteName(name: string): string {
  return PLAIN_IDENTIFIER.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** `schema.name` with each part quoted as needed. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteName(schema)}.${quoteName(name)}`;
}
