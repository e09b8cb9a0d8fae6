/**
 * Escaping of text that comes from the database or from errors, so it cannot break the markdown
 * it is put in: table pipes, backticks, newlines, HTML, emphasis and link syntax.
 */

/** Characters that start markdown syntax inline (GFM, plus GitHub's `$` math and `~` strikethrough). */
const MARKDOWN_PUNCTUATION = /[\\`*[\]|~$]/g;
const NEWLINE = /\r\n|\r|\n/g;

/** C0 control characters other than tab, LF and CR, and DEL, become U+FFFD: they have no business in a report. */
function replaceControl(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const control = (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f;
    out += control ? "\uFFFD" : char;
  }
  return out;
}

/** `_` emphasises only at a word boundary; inside names (registry_entity) it is left alone for readability. */
function escapeUnderscores(text: string): string {
  return text.replace(/_/g, (_match, offset: number, whole: string) => {
    const before = whole[offset - 1] ?? "";
    const after = whole[offset + 1] ?? "";
    const word = /[\p{L}\p{N}_]/u;
    return word.test(before) && word.test(after) ? "_" : "\\_";
  });
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Inline markdown text, safe in prose and in table cells: HTML is entity-escaped, markdown
 * punctuation backslash-escaped, newlines become `<br>`, tabs a space. An empty string renders
 * as `""` so a cell is never blank.
 */
export function escapeMarkdown(text: string): string {
  if (text === "") return '""';
  let out = replaceControl(text).replace(/\t/g, " ");
  out = escapeHtml(out);
  out = out.replace(MARKDOWN_PUNCTUATION, (char) => `\\${char}`);
  out = escapeUnderscores(out);
  // A leading # or > would start a heading or quote if the text ever began a line.
  out = out.replace(/^#/, "\\#");
  return out.replace(NEWLINE, "<br>");
}

/**
 * An inline code span, safe in a table cell: the backtick fence is longer than any backtick run
 * in the text, `|` is escaped (GFM splits cells before parsing code spans), newlines become spaces.
 */
export function codeSpan(text: string): string {
  if (text === "") return '""';
  const body = replaceControl(text).replace(NEWLINE, " ").replace(/\|/g, "\\|");
  const fence = "`".repeat(longestRun(body, "`") + 1);
  const pad = body.startsWith("`") || body.endsWith("`") || /^ .* $/.test(body) ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A fenced code block whose fence cannot be closed by the content. Ends without a newline. */
export function fencedBlock(text: string, language = ""): string {
  const body = replaceControl(text)
    .replace(/\r\n|\r/g, "\n")
    .replace(/\n+$/, "");
  const fence = "`".repeat(Math.max(3, longestRun(body, "`") + 1));
  const info = language.replace(/[^A-Za-z0-9_+-]/g, "");
  return `${fence}${info}\n${body}\n${fence}`;
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
}

const YAML_RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const YAML_PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-/ ()]*$/;

/**
 * A YAML scalar on one line. Plain when unambiguous (identifiers, "DML seed execution"),
 * otherwise a double-quoted JSON string (valid YAML). Numbers, booleans and null as themselves.
 */
export function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value !== "string") return String(value);
  const plain = YAML_PLAIN.test(value) && !YAML_RESERVED.test(value) && !value.endsWith(" ");
  return plain ? value : JSON.stringify(value);
}
