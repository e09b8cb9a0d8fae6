/**
 * Parsing aclitem text (`grantee=privileges/grantor`, as PostgreSQL prints it) into AclEntry lists.
 * The server sends ACLs as text because that costs it far less than aclexplode per object.
 */
import { EnvironmentError } from "@dieu44/plumbing/exit";
import { compareText } from "./fingerprint.js";
import type { AclEntry } from "./schema.js";

/** The privilege letters of aclitem output (PostgreSQL's ACL_*_CHR). */
const PRIVILEGES: Record<string, string> = {
  r: "SELECT",
  w: "UPDATE",
  a: "INSERT",
  d: "DELETE",
  D: "TRUNCATE",
  x: "REFERENCES",
  t: "TRIGGER",
  X: "EXECUTE",
  U: "USAGE",
  C: "CREATE",
  T: "TEMPORARY",
  c: "CONNECT",
  s: "SET",
  A: "ALTER SYSTEM",
  m: "MAINTAIN",
};

/**
 * Reads a role name starting at `start`: double-quoted (with "" for a quote) when it holds anything
 * but letters, digits and underscores, else bare up to `stop`. Returns the name and the next index.
 */
function readName(text: string, start: number, stop: string): [string, number] {
  if (text[start] !== '"') {
    const end = text.indexOf(stop, start);
    const stopAt = end === -1 ? text.length : end;
    return [text.slice(start, stopAt), stopAt];
  }
  let name = "";
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) throw new EnvironmentError(`cannot parse ACL item ${JSON.stringify(text)}`);
    name += text.slice(i, quote);
    if (text[quote + 1] === '"') {
      name += '"';
      i = quote + 2;
    } else {
      return [name, quote + 1];
    }
  }
}

function parseItem(text: string): { grantee: string; grantor: string; privileges: string[]; grantable: string[] } {
  const [granteeName, afterGrantee] = readName(text, 0, "=");
  if (text[afterGrantee] !== "=") throw new EnvironmentError(`cannot parse ACL item ${JSON.stringify(text)}`);
  const slash = text.indexOf("/", afterGrantee + 1);
  if (slash === -1) throw new EnvironmentError(`cannot parse ACL item ${JSON.stringify(text)}`);
  const privileges: string[] = [];
  const grantable: string[] = [];
  for (let i = afterGrantee + 1; i < slash; i += 1) {
    const letter = text[i] as string;
    const privilege = PRIVILEGES[letter];
    if (!privilege) throw new EnvironmentError(`unknown privilege letter "${letter}" in ACL item ${JSON.stringify(text)}`);
    privileges.push(privilege);
    if (text[i + 1] === "*") {
      grantable.push(privilege);
      i += 1;
    }
  }
  const [grantor] = readName(text, slash + 1, "\u0000");
  // An empty grantee is PUBLIC.
  return { grantee: granteeName === "" ? "PUBLIC" : granteeName, grantor, privileges, grantable };
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareText);
}

/** AclEntry list for aclitem texts: one entry per grantee and grantor, everything sorted. */
export function parseAcl(items: readonly string[]): AclEntry[] {
  const byPair = new Map<string, { grantee: string; grantor: string; privileges: string[]; grantable: string[] }>();
  for (const text of items) {
    const item = parseItem(text);
    const key = JSON.stringify([item.grantee, item.grantor]);
    const existing = byPair.get(key);
    if (existing) {
      existing.privileges.push(...item.privileges);
      existing.grantable.push(...item.grantable);
    } else {
      byPair.set(key, item);
    }
  }
  return [...byPair.values()]
    .map((entry) => ({
      grantable: uniqueSorted(entry.grantable),
      grantee: entry.grantee,
      grantor: entry.grantor,
      privileges: uniqueSorted(entry.privileges),
    }))
    .sort((a, b) => compareText(a.grantee, b.grantee) || compareText(a.grantor, b.grantor));
}

/**
 * parseAcl for many objects whose ACL is mostly one and the same item (the owner's default
 * privileges): each distinct single item is parsed once, and every object gets its own copy of
 * the entries (new objects and arrays, shared strings), so a caller that edits one edits no other.
 */
export class AclReader {
  private readonly parsed = new Map<string, AclEntry[]>();

  read(items: readonly string[]): AclEntry[] {
    const item = items[0];
    if (items.length !== 1 || item === undefined) return parseAcl(items);
    let entries = this.parsed.get(item);
    if (!entries) {
      entries = parseAcl(items);
      this.parsed.set(item, entries);
    }
    return entries.map((entry) => ({
      grantable: entry.grantable.slice(),
      grantee: entry.grantee,
      grantor: entry.grantor,
      privileges: entry.privileges.slice(),
    }));
  }
}
