/**
 * The Handlebars engine: template lookup (custom folder over the default one), partials,
 * helpers, and an AST pass that makes escaping and missing-field errors apply everywhere.
 *
 * Every `{{value}}` is rewritten to `{{md value}}`, and every other escaped `{{helper ...}}` to
 * `{{md (helper ...)}}`: text reaches the markdown only through the escaping helpers, or through
 * a triple-stash `{{{...}}}` the template author chose. Templates compile with `strict: true`, and
 * the paths given to helpers (which Handlebars leaves lenient) are made strict too, except the
 * value an `{{#if}}`/`{{#unless}}` tests: a field the data lacks is an error naming the field and
 * the template line, never an empty cell.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExpectationResult } from "@dieu44/drift-diff/schema";
import { InputError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import Handlebars from "handlebars";
import { deltaRows } from "./delta.js";
import { codeSpan, escapeMarkdown, fencedBlock, yamlScalar } from "./escape.js";

type HelperOptions = Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } };
type Hbs = typeof Handlebars;

/** The hidden hash key carrying the template path a helper reads. */
const FIELD_KEY = "__field";
/** Helpers whose first argument is a field whose absence is an error. */
const FIELD_HELPERS = new Set(["md", "code", "fence", "yaml", "json", "mark", "yesno", "status"]);

export interface TemplateOptions {
  /** A folder whose `NAME.hbs` and `partials/*.hbs` take precedence over the default templates. */
  templatesDir?: string;
}

/**
 * The default templates folder. In the repository: the top-level `templates/` (found from this
 * file: packages/report-render/dist → ../../../templates). A published package carries a copy in
 * dist/templates (made by scripts/copy-templates.mjs at build time), used when the repository
 * folder is absent.
 */
export function defaultTemplatesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repoTemplates = resolve(here, "..", "..", "..", "templates");
  const repoMarker = resolve(here, "..", "..", "..", "packages", "report-render", "package.json");
  if (existsSync(repoMarker) && existsSync(join(repoTemplates, "report.hbs"))) return repoTemplates;
  return resolve(here, "templates");
}

function templateDirs(options: TemplateOptions): string[] {
  const dirs: string[] = [];
  if (options.templatesDir !== undefined) {
    const dir = resolve(options.templatesDir);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new InputError(`--templates ${options.templatesDir}: not a folder`);
    dirs.push(dir);
  }
  dirs.push(defaultTemplatesDir());
  return dirs;
}

/** A template given as a file path (has a directory part or ends in .hbs) rather than a name. */
function isTemplateFile(nameOrFile: string): boolean {
  return nameOrFile.includes("/") || nameOrFile.includes("\\") || extname(nameOrFile) === ".hbs";
}

/** Finds a template's source: a file path as given, else NAME.hbs in the first folder that has it. */
export function resolveTemplate(nameOrFile: string, options: TemplateOptions = {}): { label: string; source: string } {
  if (isTemplateFile(nameOrFile)) {
    if (!existsSync(nameOrFile)) throw new InputError(`--template ${nameOrFile}: no such file`);
    return { label: basename(nameOrFile), source: readFileSync(nameOrFile, "utf8") };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(nameOrFile)) throw new InputError(`--template ${nameOrFile}: not a template name`);
  const dirs = templateDirs(options);
  for (const dir of dirs) {
    const file = join(dir, `${nameOrFile}.hbs`);
    if (existsSync(file)) return { label: `${nameOrFile}.hbs`, source: readFileSync(file, "utf8") };
  }
  throw new InputError(`--template ${nameOrFile}: no template ${nameOrFile}.hbs in ${dirs.join(" or ")}`);
}

/** Partials by name: the default folder's, overridden by the custom folder's. */
function loadPartials(options: TemplateOptions): Map<string, string> {
  const partials = new Map<string, string>();
  for (const dir of templateDirs(options).reverse()) {
    const partialDir = join(dir, "partials");
    if (!existsSync(partialDir)) continue;
    for (const file of readdirSync(partialDir).sort()) {
      if (extname(file) === ".hbs") partials.set(basename(file, ".hbs"), readFileSync(join(partialDir, file), "utf8"));
    }
  }
  return partials;
}

function where(options: HelperOptions): string {
  const templateName = (options.data as { templateName?: string } | undefined)?.templateName ?? "template";
  const loc = options.loc?.start;
  return loc ? `${templateName}:${loc.line}:${loc.column + 1}` : templateName;
}

function fieldOf(options: HelperOptions): string {
  const field = options.hash?.[FIELD_KEY];
  return typeof field === "string" ? field : "(value)";
}

/** Throws the error every helper gives for a value the template reads but the data lacks. */
function requireValue(value: unknown, options: HelperOptions): void {
  if (value === undefined) throw new InputError(`${where(options)}: field ${fieldOf(options)} is missing`);
}

function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

function registerHelpers(hbs: Hbs): void {
  const safe = (text: string) => new hbs.SafeString(text);
  const isSafe = (value: unknown): value is Handlebars.SafeString => value instanceof hbs.SafeString;

  /** Escaped inline text. Null renders as an em dash: explicit, never a blank cell. */
  hbs.registerHelper("md", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    if (isSafe(value)) return value;
    if (value === null) return safe("—");
    return safe(escapeMarkdown(toText(value)));
  });
  /** Inline code, safe in tables. */
  hbs.registerHelper("code", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    if (value === null) return safe("—");
    return safe(codeSpan(toText(value)));
  });
  /** A fenced code block: `{{fence statement.sql "sql"}}`. */
  hbs.registerHelper("fence", (value: unknown, ...rest: unknown[]) => {
    const options = rest.pop() as HelperOptions;
    requireValue(value, options);
    const language = typeof rest[0] === "string" ? rest[0] : "";
    return safe(fencedBlock(value === null ? "" : toText(value), language));
  });
  /** A one-line YAML scalar for the report's YAML block. */
  hbs.registerHelper("yaml", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      return safe(yamlScalar(value));
    }
    return safe(JSON.stringify(value));
  });
  /** Compact JSON in a code span. */
  hbs.registerHelper("json", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    return safe(codeSpan(JSON.stringify(value)));
  });
  /** A boolean check result as a word a reviewer scans for. */
  hbs.registerHelper("mark", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    if (typeof value !== "boolean") throw new InputError(`${where(options)}: field ${fieldOf(options)} is not a boolean`);
    return safe(value ? "yes" : "**NO**");
  });
  /** A boolean fact (exists, dry run) as yes/no; unlike `mark`, no is not a failure. */
  hbs.registerHelper("yesno", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    if (typeof value !== "boolean") throw new InputError(`${where(options)}: field ${fieldOf(options)} is not a boolean`);
    return safe(value ? "yes" : "no");
  });
  /** A status word in bold (PASS, BLOCKED, passed, failed, ...). */
  hbs.registerHelper("status", (value: unknown, options: HelperOptions) => {
    requireValue(value, options);
    return safe(`**${escapeMarkdown(toText(value))}**`);
  });

  hbs.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  hbs.registerHelper("ne", (a: unknown, b: unknown) => a !== b);
  hbs.registerHelper("not", (a: unknown) => !a);
  hbs.registerHelper("and", (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper("or", (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper("gt", (a: unknown, b: unknown) => Number(a) > Number(b));
  hbs.registerHelper("length", (value: unknown) => {
    if (Array.isArray(value)) return value.length;
    if (value !== null && typeof value === "object") return Object.keys(value).length;
    return 0;
  });
  /** Items of a list whose `key` equals `value`: `{{#each (where constraints "type" "unique")}}`. */
  hbs.registerHelper("where", (list: unknown, key: string, value: unknown) =>
    Array.isArray(list) ? list.filter((item) => item !== null && typeof item === "object" && item[key] === value) : [],
  );
  /** Number of items of a list whose `key` equals `value`. */
  hbs.registerHelper("countWhere", (list: unknown, key: string, value: unknown) =>
    Array.isArray(list) ? list.filter((item) => item !== null && typeof item === "object" && item[key] === value).length : 0,
  );
  /** Escaped items joined by a separator (default ", "); an empty list renders as an em dash. */
  hbs.registerHelper("join", (list: unknown, ...rest: unknown[]) => {
    const separator = typeof rest[0] === "string" && rest.length > 1 ? rest[0] : ", ";
    if (!Array.isArray(list) || list.length === 0) return safe("—");
    return safe(list.map((item) => escapeMarkdown(toText(item))).join(escapeMarkdown(separator)));
  });
  /** Like join, each item as inline code. */
  hbs.registerHelper("joinCode", (list: unknown, ...rest: unknown[]) => {
    const separator = typeof rest[0] === "string" && rest.length > 1 ? rest[0] : ", ";
    if (!Array.isArray(list) || list.length === 0) return safe("—");
    return safe(list.map((item) => codeSpan(toText(item))).join(escapeMarkdown(separator)));
  });
  /** Entries of an object as [{key, value}] in key order, for deterministic tables. */
  hbs.registerHelper("entries", (value: unknown) =>
    value !== null && typeof value === "object"
      ? Object.keys(value)
          .sort()
          .map((key) => ({ key, value: (value as Record<string, unknown>)[key] }))
      : [],
  );
  /** Strings and numbers joined: `(concat schema "." name)`. */
  hbs.registerHelper("concat", (...args: unknown[]) => args.slice(0, -1).map(toText).join(""));
  /** n + 1, for 1-based numbering with @index. */
  hbs.registerHelper("inc", (value: unknown) => Number(value) + 1);
  /** The first item of a list whose `key` equals `value`, else null: `{{#with (find steps "id" "apply")}}`. */
  hbs.registerHelper("find", (list: unknown, key: string, value: unknown) =>
    Array.isArray(list) ? (list.find((item) => item !== null && typeof item === "object" && item[key] === value) ?? null) : null,
  );
  /** Expected-vs-found rows of an expectation-result document (see delta.ts). */
  hbs.registerHelper("deltaRows", (expectation: unknown) => deltaRows((expectation ?? null) as ExpectationResult | null));
  /** Singular or plural word for a count: `{{plural n "table" "tables"}}`. */
  hbs.registerHelper("plural", (count: unknown, one: string, many: string) => (count === 1 ? one : many));
}

type AstNode = hbs.AST.Node;
type CallNode = hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;

function isPath(node: hbs.AST.Expression): node is hbs.AST.PathExpression {
  return node.type === "PathExpression";
}

function pathExpression(name: string, loc: hbs.AST.SourceLocation): hbs.AST.PathExpression {
  return { type: "PathExpression", data: false, depth: 0, parts: [name], original: name, loc };
}

function fieldHash(node: CallNode, field: string): hbs.AST.Hash {
  const pairs = node.hash?.pairs ?? [];
  const value: hbs.AST.StringLiteral = { type: "StringLiteral", value: field, original: field, loc: node.loc };
  return { type: "Hash", pairs: [...pairs, { type: "HashPair", key: FIELD_KEY, value, loc: node.loc }], loc: node.loc };
}

function helperName(node: CallNode): string | null {
  const path = node.path;
  return isPath(path) && !path.data && path.parts.length === 1 ? (path.parts[0] ?? null) : null;
}

/** Block helpers that test a value: a missing field is simply false there (optional fields). */
const TESTS = new Set(["if", "unless"]);

/**
 * Paths made strict by the rewrite, by source location: Handlebars' strict error names only the
 * last segment, this names the whole path.
 */
type StrictPaths = Map<string, string>;

const locKey = (loc: hbs.AST.SourceLocation | undefined) => (loc ? `${loc.start.line}:${loc.start.column}` : "");

/** Handlebars checks a strict path's last segment exists (and fails on a missing parent). */
function makeStrict(expression: hbs.AST.Expression, strictPaths: StrictPaths): void {
  if (!isPath(expression) || expression.parts.length === 0) return;
  (expression as hbs.AST.PathExpression & { strict?: boolean }).strict = true;
  strictPaths.set(locKey(expression.loc), expression.original);
}

/** Rewrites one template AST in place (see the top of this file). */
function rewrite(node: AstNode | null | undefined, hbs: Hbs, strictPaths: StrictPaths): void {
  if (!node) return;
  switch (node.type) {
    case "Program":
      for (const statement of (node as hbs.AST.Program).body) rewrite(statement, hbs, strictPaths);
      return;
    case "MustacheStatement": {
      const mustache = node as hbs.AST.MustacheStatement;
      rewriteCall(mustache, hbs, strictPaths);
      const name = helperName(mustache);
      if (!mustache.escaped || name === "md") return;
      const hasArgs = mustache.params.length > 0 || (mustache.hash?.pairs.length ?? 0) > 0;
      const isHelper = name !== null && name in hbs.helpers;
      const inner: hbs.AST.Expression =
        hasArgs || isHelper
          ? ({
              type: "SubExpression",
              path: mustache.path,
              params: mustache.params,
              hash: mustache.hash,
              loc: mustache.loc,
            } as hbs.AST.SubExpression)
          : mustache.path;
      mustache.path = pathExpression("md", mustache.loc);
      mustache.params = [inner];
      mustache.hash = undefined as unknown as hbs.AST.Hash;
      if (isPath(inner)) {
        makeStrict(inner, strictPaths);
        mustache.hash = fieldHash(mustache, inner.original);
      }
      return;
    }
    case "BlockStatement": {
      const block = node as hbs.AST.BlockStatement;
      rewriteCall(block, hbs, strictPaths);
      rewrite(block.program, hbs, strictPaths);
      rewrite(block.inverse, hbs, strictPaths);
      return;
    }
    case "PartialBlockStatement":
      rewrite((node as hbs.AST.PartialBlockStatement).program, hbs, strictPaths);
      return;
    case "SubExpression":
      rewriteCall(node as hbs.AST.SubExpression, hbs, strictPaths);
      return;
    default:
      return;
  }
}

function rewriteCall(node: CallNode, hbs: Hbs, strictPaths: StrictPaths): void {
  const name = helperName(node);
  for (const param of node.params) {
    rewrite(param, hbs, strictPaths);
    if (name !== null && !TESTS.has(name)) makeStrict(param, strictPaths);
  }
  for (const pair of node.hash?.pairs ?? []) rewrite(pair.value, hbs, strictPaths);
  const first = node.params[0];
  if (name !== null && first !== undefined && isPath(first) && FIELD_HELPERS.has(name)) {
    node.hash = fieldHash(node, first.original);
  }
}

/** A compiled template and the strict paths it reads, by location. */
interface Compiled {
  template: Handlebars.TemplateDelegate;
  strictPaths: StrictPaths;
}

function compile(hbs: Hbs, source: string, label: string): Compiled {
  let ast: hbs.AST.Program;
  try {
    ast = hbs.parse(source);
  } catch (error) {
    throw new InputError(`${label}: template syntax error: ${(error as Error).message.split("\n")[0]}`);
  }
  const strictPaths: StrictPaths = new Map();
  rewrite(ast, hbs, strictPaths);
  return { template: hbs.compile(ast, { strict: true }), strictPaths };
}

/** A Handlebars environment with this package's helpers and the partials of the given folders. */
export function createEngine(options: TemplateOptions = {}): {
  render(nameOrFile: string, context: unknown): string;
} {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  // Strict paths of every partial and template compiled here, by file and location.
  const strictPaths = new Map<string, StrictPaths>();
  for (const [name, source] of loadPartials(options)) {
    const label = `partials/${name}.hbs`;
    const compiled = compile(hbs, source, label);
    strictPaths.set(label, compiled.strictPaths);
    hbs.registerPartial(name, compiled.template);
  }
  return {
    render(nameOrFile, context) {
      const { label, source } = resolveTemplate(nameOrFile, options);
      const compiled = compile(hbs, source, label);
      try {
        // Defence in depth: a password that reached a document (a URL with userinfo, PGPASSWORD=) is masked.
        return redact(compiled.template(context, { data: { templateName: label } }));
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw missingFieldError(error, label, compiled.strictPaths, strictPaths);
      }
    },
  };
}

/**
 * Handlebars strict mode says `"name" not defined in [object Object] - 12:4`, without the file
 * when the failure is inside a partial. The location finds the path the rewrite made strict.
 */
function missingFieldError(error: unknown, label: string, own: StrictPaths, partials: Map<string, StrictPaths>): InputError {
  const message = (error as Error).message;
  const strict = /^"(.+)" not defined in [\s\S]* - (\d+):(\d+)$/.exec(message);
  if (!strict) return new InputError(`${label}: ${message}`);
  const [, name, line, column] = strict;
  const key = `${line}:${column}`;
  const candidates: [string, string][] = [];
  if (own.has(key)) candidates.push([label, own.get(key)!]);
  for (const [partial, paths] of partials) if (paths.has(key)) candidates.push([partial, paths.get(key)!]);
  const match = candidates.find(([, path]) => path === name || path.endsWith(`.${name}`) || path.split(".").includes(name!));
  const [file, path] = match ?? [label, name!];
  return new InputError(`${file}:${line}:${Number(column) + 1}: field ${path} is missing`);
}
