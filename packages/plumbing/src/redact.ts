/**
 * Secret redaction, in one place: every message that leaves a dieu44 tool passes through `redact`.
 */

const MASK = "********";
const knownSecrets = new Set<string>();

/** Registers a secret value (a password) so that it is masked wherever it appears later. */
export function registerSecret(value: string | undefined | null): void {
  // Very short values would mask ordinary words; passwords that short are masked by pattern only.
  if (value && value.length >= 3) knownSecrets.add(value);
}

/** Forgets registered secrets (for tests). */
export function clearSecrets(): void {
  knownSecrets.clear();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Masks passwords in URLs (`scheme://user:pw@host`), key=value DSNs (`password=...`),
 * PGPASSWORD assignments, PASSWORD literals in SQL, and every registered secret.
 */
export function redact(text: string): string {
  // Linear time on any input: the URL pattern starts only where a scheme starts (the lookbehind),
  // and its user and password parts are bounded, so no try scans to the end of a long text that
  // never reaches "@" (unbounded, a 64 KiB token took seconds). A password longer than the bound
  // is still masked when registered.
  let out = text
    .replace(/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,63}:\/\/[^:/?#@\s]{0,256}:)([^@\s]{0,1024})@/gi, `$1${MASK}@`)
    .replace(/([?&]password=)[^&\s]*/gi, `$1${MASK}`)
    .replace(/\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|"[^"]*"|\S+)/gi, `$1${MASK}`)
    .replace(/\b(PGPASSWORD\s*[=:]\s*)\S+/g, `$1${MASK}`)
    .replace(/\b(PASSWORD\s+)'(?:[^']|'')*'/gi, `$1'${MASK}'`);
  for (const secret of [...knownSecrets].sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(escapeRegExp(secret), "g"), MASK);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.replace(new RegExp(escapeRegExp(encoded), "g"), MASK);
  }
  return out;
}

/** Redacts every string inside a JSON-like value (for documents written to disk). */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item);
    return out as T;
  }
  return value;
}
