/**
 * Deterministic generators of malformed input for the bad-input cases: JSON documents (every
 * family the issue lists) and SQL artifacts. A seeded PRNG, so that a failing mutation can be
 * reproduced from its id.
 */

/** mulberry32: small, fast, good enough to spread mutations; seeded, so runs repeat exactly. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }
}

/** A seed from a string (FNV-1a), so each kind gets its own stream. */
export function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface Mutation {
  /** `<family>#<index>`: the family and the index that reproduces it. */
  id: string;
  family: string;
  bytes: Buffer;
  /**
   * True when the mutation is invalid by construction for a JSON reader (bad syntax, bad bytes,
   * wrong kind or version, a required field gone): the schema must refuse it too. Otherwise the
   * case decides per mutation whether it is still a valid document.
   */
  designedInvalid: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const MiB = 1024 * 1024;

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Every path in a document (objects' keys and arrays' indexes), breadth first, capped. */
function pathsOf(value: Json, limit = 20_000): Path[] {
  const paths: Path[] = [];
  const queue: { path: Path; value: Json }[] = [{ path: [], value }];
  for (let head = 0; head < queue.length && paths.length < limit; head++) {
    const entry = queue[head]!;
    if (entry.path.length > 0) paths.push(entry.path);
    if (Array.isArray(entry.value))
      entry.value.forEach((item, index) => {
        queue.push({ path: [...entry.path, index], value: item });
      });
    else if (entry.value !== null && typeof entry.value === "object") {
      for (const [key, item] of Object.entries(entry.value)) queue.push({ path: [...entry.path, key], value: item });
    }
  }
  return paths;
}

function getAt(root: Json, path: Path): Json {
  let value: Json = root;
  for (const part of path) value = (value as Record<string | number, Json>)[part]!;
  return value;
}

function setAt(root: Json, path: Path, replacement: Json): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]!] = replacement;
}

function deleteAt(root: Json, path: Path): void {
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, Json>)[String(last)];
}

function typeOf(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A value of another JSON type than `value`. */
function otherType(value: Json, random: Random): Json {
  const candidates: Json[] = [null, true, false, 0, -1, 3.5, 1e308, "", "x", "1", [], [1], {}, { a: 1 }];
  const choices = candidates.filter((candidate) => typeOf(candidate) !== typeOf(value));
  return clone(random.pick(choices));
}

function text(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Nested arrays `depth` deep around `inner`, built as text (no recursion anywhere). */
function nestedArrays(depth: number, inner = "0"): string {
  return `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
}

/**
 * A long string: one long word (letters, or what a URL scheme is made of: redact() was quadratic
 * on those until the suite found it), multi-byte characters, escapes, or SQL-ish text.
 */
function hugeString(
  length: number,
  random: Random,
  unit = random.pick(["A", "ab1+.-", "é", "漢", "𝄞", "\\", '"', " ", "a'b;--", "x y"]),
): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** Paths whose value is a string / a number / an object, for targeted mutations. */
function pathsWhere(document: Json, paths: Path[], test: (value: Json) => boolean): Path[] {
  return paths.filter((path) => test(getAt(document, path)));
}

/** Invalid UTF-8 sequences: a stray continuation, an overlong '/', a surrogate, above U+10FFFF, a cut sequence, 0xFF. */
const INVALID_UTF8: readonly number[][] = [
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xff],
  [0xc3, 0x28],
];

/**
 * Serializes (compactly) with one extra, duplicate member in the object `target`: the duplicate's
 * value is written before or after the original member (JSON.parse keeps the last one).
 */
function textWithDuplicateKey(document: Json, target: Json, key: string, duplicate: Json, duplicateLast: boolean): string {
  const write = (value: Json): string => {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map(write).join(",")}]`;
    const members: string[] = [];
    for (const [name, item] of Object.entries(value)) {
      const original = `${JSON.stringify(name)}:${write(item)}`;
      if (value !== target || name !== key) members.push(original);
      else {
        const copy = `${JSON.stringify(name)}:${JSON.stringify(duplicate)}`;
        members.push(...(duplicateLast ? [original, copy] : [copy, original]));
      }
    }
    return `{${members.join(",")}}`;
  };
  return `${write(document)}\n`;
}

const preparedSeeds = new WeakMap<DocumentSeed, { baseText: string; paths: Path[] }>();

/** The seed's text and paths, computed once per seed (the snapshot has thousands of paths). */
function prepared(seed: DocumentSeed): { baseText: string; paths: Path[] } {
  let entry = preparedSeeds.get(seed);
  if (!entry) {
    entry = { baseText: text(seed.document), paths: pathsOf(seed.document) };
    preparedSeeds.set(seed, entry);
  }
  return entry;
}

export const JSON_FAMILIES = [
  "truncated",
  "wrong-type",
  "missing-field",
  "missing-required-field",
  "wrong-kind",
  "wrong-format-version",
  "huge-string",
  "invalid-utf8-in-string",
  "invalid-utf8-anywhere",
  "deeply-nested",
  "bom",
  "empty",
  "nan-token",
  "duplicate-key",
  "wrong-root",
  "raw-control-character",
] as const;

export interface DocumentSeed {
  /** The valid document every mutation starts from. */
  document: Json;
  /** Top-level fields the kind's JSON Schema lists as required. */
  required: readonly string[];
  /** Other kinds' names, for wrong-kind mutations. */
  otherKinds: readonly string[];
}

/**
 * The `index`-th mutation of a document. Families take turns, so every family appears about
 * count / families times; the details come from the seeded random stream.
 */
export function mutateDocument(seed: DocumentSeed, index: number, random: Random): Mutation {
  const family = JSON_FAMILIES[index % JSON_FAMILIES.length]!;
  const id = `${family}#${index}`;
  const base = seed.document;
  const { baseText, paths } = prepared(seed);
  const result = (bytes: Buffer | string, designedInvalid: boolean): Mutation => ({
    id,
    family,
    bytes: typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes,
    designedInvalid,
  });
  switch (family) {
    case "truncated": {
      // Anywhere before the closing brace: never a whole document; may cut a multi-byte character.
      const bytes = Buffer.from(baseText.trimEnd(), "utf8");
      return result(bytes.subarray(0, random.int(bytes.length - 1)), true);
    }
    case "wrong-type": {
      const document = clone(base);
      const path = random.pick(paths);
      setAt(document, path, otherType(getAt(document, path), random));
      return result(text(document), false);
    }
    case "missing-field": {
      const document = clone(base);
      const objectMembers = paths.filter((path) => typeof path[path.length - 1] === "string");
      deleteAt(document, random.pick(objectMembers));
      return result(text(document), false);
    }
    case "missing-required-field": {
      const document = clone(base) as Record<string, Json>;
      delete document[random.pick(seed.required)];
      return result(text(document), true);
    }
    case "wrong-kind": {
      const document = clone(base) as Record<string, Json>;
      const kind = String(document.kind);
      const choice = random.int(7);
      if (choice === 0) delete document.kind;
      else {
        document.kind = ["", random.pick(seed.otherKinds), kind.toUpperCase(), `${kind} `, 42, null, `${kind}\u0000`][
          choice
        ] as Json;
      }
      return result(text(document), true);
    }
    case "wrong-format-version": {
      const document = clone(base) as Record<string, Json>;
      const choice = random.int(9);
      if (choice === 0) delete document.formatVersion;
      else document.formatVersion = [0, 99, -1, "1", 1.5, null, true, [1]][choice - 1] as Json;
      return result(text(document), true);
    }
    case "huge-string": {
      // Mostly 64 KiB, some 1 MiB; one mutation of each kind 10 MiB (one word, or "é": 20 MB of UTF-8).
      const huge = index === JSON_FAMILIES.indexOf("huge-string");
      const length = huge ? 10 * MiB : index % 9 === 0 ? MiB : 64 * 1024;
      const value = huge ? hugeString(length, random, random.pick(["A", "é"])) : hugeString(length, random);
      const document = clone(base) as Record<string, Json>;
      if (!huge && random.int(4) === 0) {
        document[random.pick(["kind", "formatVersion"])] = value;
        return result(text(document), true);
      }
      const stringPaths = pathsWhere(document, paths, (item) => typeof item === "string");
      setAt(document, random.pick(stringPaths), value);
      return result(text(document), false);
    }
    case "invalid-utf8-in-string": {
      // A marker inside a string value, replaced by the bad bytes once serialized.
      const document = clone(base);
      const stringPaths = pathsWhere(document, paths, (value) => typeof value === "string" && value.length > 0);
      const path = random.pick(stringPaths);
      const value = getAt(document, path) as string;
      const cut = random.int(value.length + 1);
      setAt(document, path, `${value.slice(0, cut)}\u0001MARK\u0001${value.slice(cut)}`);
      const serialized = Buffer.from(text(document), "utf8");
      const marker = Buffer.from(JSON.stringify("\u0001MARK\u0001").slice(1, -1), "utf8");
      const at = serialized.indexOf(marker);
      return result(
        Buffer.concat([
          serialized.subarray(0, at),
          Buffer.from(random.pick(INVALID_UTF8)),
          serialized.subarray(at + marker.length),
        ]),
        true,
      );
    }
    case "invalid-utf8-anywhere": {
      const bytes = Buffer.from(baseText, "utf8");
      const at = random.int(bytes.length + 1);
      return result(Buffer.concat([bytes.subarray(0, at), Buffer.from(random.pick(INVALID_UTF8)), bytes.subarray(at)]), true);
    }
    case "deeply-nested": {
      // Just over the readers' limit (256) up to 20,000 levels; once per kind 100,000 (a YAML plan
      // that deep takes the yaml parser about a second to refuse).
      const deepest = index === JSON_FAMILIES.indexOf("deeply-nested");
      const depth = deepest ? 100_000 : random.pick([300, 1_000, 5_000, 20_000]);
      if (random.int(3) === 0) return result(nestedArrays(depth), true);
      const path = random.pick(paths);
      const MARK = "\u0001NEST\u0001";
      const document = clone(base);
      setAt(document, path, MARK);
      return result(text(document).replace(JSON.stringify(MARK), nestedArrays(depth)), false);
    }
    case "bom":
      return result(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(baseText, "utf8")]), true);
    case "empty":
      return result(random.pick(["", " ", "\n", "\r\n\t  \n"]), true);
    case "nan-token": {
      // Replace one number token (formatVersion at least) with something JSON has no number for.
      const tokens = [...baseText.matchAll(/(?<=: |\[\n\s*|,\n\s*)-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?=,?\n)/g)];
      const token = random.pick(tokens);
      const replacement = random.pick([
        "NaN",
        "Infinity",
        "-Infinity",
        "undefined",
        "0x1F",
        "+1",
        ".5",
        "1.",
        "01",
        "1e",
        "--1",
        "1_000",
      ]);
      const at = token.index!;
      return result(`${baseText.slice(0, at)}${replacement}${baseText.slice(at + token[0].length)}`, true);
    }
    case "duplicate-key": {
      const objectPaths: Path[] = [
        [],
        ...pathsWhere(
          base,
          paths,
          (value) => value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0,
        ),
      ];
      const path = random.pick(objectPaths);
      const target = getAt(base, path) as Record<string, Json>;
      const key = random.pick(Object.keys(target));
      const duplicateLast = random.int(2) === 0;
      return result(textWithDuplicateKey(base, target, key, otherType(target[key]!, random), duplicateLast), false);
    }
    case "wrong-root":
      return result(random.pick([`[${baseText}]`, '"catalog"', "42", "null", "true", "[]", JSON.stringify(baseText)]), true);
    case "raw-control-character": {
      // An unescaped control character (NUL, TAB, LF, ESC) inside a string: not JSON.
      const quote = [...baseText.matchAll(/": "/g)];
      const at = random.pick(quote).index! + 4;
      const control = random.pick(["\u0000", "\t", "\n", "\u001b", "\u007f\u0000"]);
      return result(`${baseText.slice(0, at)}${control}${baseText.slice(at)}`, true);
    }
  }
}

export const SQL_FAMILIES = [
  "byte-flip",
  "truncated",
  "duplicated-line",
  "deleted-line",
  "inserted-quote",
  "inserted-dollar-quote",
  "inserted-comment",
  "inserted-backslash-command",
  "nul-byte",
  "invalid-utf8",
  "long-identifier",
  "swapped-lines",
  "random-bytes",
] as const;

const SQL_INSERTIONS: Record<string, readonly string[]> = {
  "inserted-quote": ["'", '"', "''", "E'\\", "U&'\\", "'\\'", '"";', "$"],
  "inserted-dollar-quote": ["$$", "$tag$", "$a$ select $b$", "$$;\nCOMMIT;\n$$", "$_$", "$1$"],
  "inserted-comment": ["/*", "*/", "--", "/* /* nested */", "/*/", "-- \\\\", "/* $$ */"],
  "inserted-backslash-command": [
    "\\set ON_ERROR_STOP off\n",
    "\\unset ON_ERROR_STOP\n",
    "\\connect other\n",
    "\\! rm -rf /\n",
    "\\i /etc/passwd\n",
    "\\if :x\n",
    "\\endif\n",
    "\\c\n",
    "\\gexec\n",
    "\\copy t from '/x'\n",
    "\\",
    "\\\\",
    "\\set x 'a\n",
  ],
};

/** The `index`-th mutation of an SQL artifact. */
export function mutateSql(base: Buffer, index: number, random: Random): Mutation {
  const family = SQL_FAMILIES[index % SQL_FAMILIES.length]!;
  const id = `${family}#${index}`;
  const result = (bytes: Buffer | string): Mutation => ({
    id,
    family,
    bytes: typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes,
    designedInvalid: false,
  });
  const lines = base.toString("latin1").split("\n");
  const insertAt = (insertion: Buffer | string) => {
    const at = random.int(base.length + 1);
    const inserted = typeof insertion === "string" ? Buffer.from(insertion, "utf8") : insertion;
    return Buffer.concat([base.subarray(0, at), inserted, base.subarray(at)]);
  };
  switch (family) {
    case "byte-flip": {
      const bytes = Buffer.from(base);
      for (let flips = 1 + random.int(4); flips > 0; flips--) {
        const at = random.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 << random.int(8));
      }
      return result(bytes);
    }
    case "truncated":
      return result(base.subarray(0, random.int(base.length)));
    case "duplicated-line": {
      const at = random.int(lines.length);
      return result([...lines.slice(0, at + 1), ...lines.slice(at)].join("\n"));
    }
    case "deleted-line": {
      const copy = [...lines];
      for (let deletions = 1 + random.int(3); deletions > 0; deletions--) copy.splice(random.int(copy.length), 1);
      return result(copy.join("\n"));
    }
    case "swapped-lines": {
      const copy = [...lines];
      const a = random.int(copy.length);
      const b = random.int(copy.length);
      [copy[a], copy[b]] = [copy[b]!, copy[a]!];
      return result(copy.join("\n"));
    }
    case "inserted-quote":
    case "inserted-dollar-quote":
    case "inserted-comment":
    case "inserted-backslash-command":
      return result(insertAt(random.pick(SQL_INSERTIONS[family]!)));
    case "nul-byte":
      return result(insertAt(Buffer.from([0])));
    case "invalid-utf8":
      return result(insertAt(Buffer.from(random.pick(INVALID_UTF8))));
    case "long-identifier": {
      const length = random.pick([64, 100, 1_000, 100_000, 1_000_000]);
      const quoted = random.int(2) === 0;
      const name = random.pick(["a", "é", "x_"]).repeat(length);
      return result(insertAt(quoted ? `"${name}"` : name));
    }
    case "random-bytes": {
      const bytes = Buffer.alloc(random.int(4096));
      for (let at = 0; at < bytes.length; at++) bytes[at] = random.int(256);
      return result(random.int(2) === 0 ? bytes : Buffer.concat([base, bytes]));
    }
  }
}
