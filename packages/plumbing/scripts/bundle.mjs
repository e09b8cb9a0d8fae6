/**
 * Replaces dist/yargs.js and dist/zod.js (compiled from src/yargs.ts and src/zod.ts, which
 * re-export yargs and zod) with the same exports bundled into one file each, so that a command
 * line loads one module instead of a tree of them: yargs is some forty modules, and zod's entry
 * about a hundred (its sixty locales among them), of which the bundle keeps only what
 * src/zod-api.ts names. Run by `npm run build` after tsc.
 *
 * The string-width modules yargs and cliui bring in build Unicode tables as soon as they load:
 * an `Intl.Segmenter` each and regular expressions with `\p{...}` properties, which V8 compiles
 * (and checks) when it parses the file, whether or not they are ever used. `\p{RGI_Emoji}` alone
 * costs about 25 ms and the first segmenter about 17 ms, on every start of every tool, though only
 * printing a usage text can need them. The build defers them to their first use, and gives the
 * copies that lack it string-width's early return for printable ASCII, so that an English usage
 * text never needs them (`lazyUnicode` below): same widths, same layout. It fails if the bundle
 * still builds a table at load, so that an upgrade of yargs cannot bring the cost back unnoticed.
 */
import { readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";
import { parseAst } from "rolldown/parseAst";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

const HELPERS = "\0dieu44-lazy-unicode";
const helpersSource = `
/** A RegExp built on first use; string-width only calls test, search and match on its own. */
export function lazyRegExp(source, flags) {
  let compiled;
  const regExp = () => (compiled ??= new RegExp(source, flags));
  return {
    test: (text) => regExp().test(text),
    exec: (text) => regExp().exec(text),
    [Symbol.match]: (text) => regExp()[Symbol.match](text),
    [Symbol.search]: (text) => regExp()[Symbol.search](text),
    [Symbol.replace]: (text, replacement) => regExp()[Symbol.replace](text, replacement),
    [Symbol.split]: (text, limit) => regExp()[Symbol.split](text, limit),
  };
}
/** An Intl.Segmenter built on first use. */
export function lazySegmenter() {
  let segmenter;
  return { segment: (text) => (segmenter ??= new Intl.Segmenter()).segment(text) };
}
`;

/** A top-level initialiser that builds Unicode tables when the module loads. */
function eagerUnicode(init) {
  if (init?.type === "Literal" && init.regex) return init.regex.pattern.includes("\\p{") || init.regex.flags.includes("v");
  return (
    init?.type === "NewExpression" &&
    init.callee.type === "MemberExpression" &&
    init.callee.object.name === "Intl" &&
    init.callee.property.name === "Segmenter"
  );
}

function* topLevelInitialisers(program) {
  for (const statement of program.body) {
    const declaration = statement.type === "ExportNamedDeclaration" ? statement.declaration : statement;
    if (declaration?.type !== "VariableDeclaration") continue;
    for (const declarator of declaration.declarations) if (declarator.init) yield declarator.init;
  }
}

/**
 * The width of printable ASCII text is its length: every such character is one grapheme, narrow,
 * neither a control, a mark, ignorable nor an emoji. The newest string-width (yargs' own copy)
 * returns that before segmenting; the older copies cliui and wrap-ansi use do not, so each word of
 * a usage text went through an Intl.Segmenter (about 80 ms of every `--help`). The same early
 * return is put in front of each copy's function.
 */
const ASCII_FAST_PATH = (parameter) =>
  `if (typeof ${parameter} === "string" && /^[\\x20-\\x7E]*$/.test(${parameter})) return ${parameter}.length;`;

/** string-width's exported function, or null. */
function exportedFunction(program) {
  for (const statement of program.body) {
    if (statement.type === "ExportDefaultDeclaration" && statement.declaration.type === "FunctionDeclaration") {
      return statement.declaration;
    }
  }
  return null;
}

/**
 * Rolldown plugin for the string-width copies: top-level Unicode tables built on first use, and
 * printable ASCII measured without them.
 */
const lazyUnicode = {
  name: "dieu44-lazy-unicode",
  resolveId: (id) => (id === HELPERS ? id : null),
  load: (id) => (id === HELPERS ? helpersSource : null),
  transform(code, id) {
    if (!/[\\/]string-width[\\/]index\.js$/.test(id)) return null;
    const program = parseAst(code);
    const edits = [];
    for (const init of topLevelInitialisers(program)) {
      if (!eagerUnicode(init)) continue;
      const replacement =
        init.type === "Literal"
          ? `lazyRegExp(${JSON.stringify(init.regex.pattern)}, ${JSON.stringify(init.regex.flags)})`
          : "lazySegmenter()";
      edits.push({ start: init.start, end: init.end, replacement });
    }
    const measure = exportedFunction(program);
    const parameter = measure?.params[0];
    if (parameter?.type !== "Identifier") {
      throw new Error(`scripts/bundle.mjs: ${id} does not export stringWidth(text, ...) as expected; review lazyUnicode`);
    }
    const bodyStart = measure.body.start + 1;
    edits.push({ start: bodyStart, end: bodyStart, replacement: `\n\t${ASCII_FAST_PATH(parameter.name)}` });
    let out = code;
    for (const edit of edits.sort((a, b) => b.start - a.start)) {
      out = out.slice(0, edit.start) + edit.replacement + out.slice(edit.end);
    }
    return { code: `import { lazyRegExp, lazySegmenter } from ${JSON.stringify(HELPERS)};\n${out}`, map: null };
  },
};

/** Bundles dist/NAME.js into itself. */
async function bundle(name) {
  const target = join(dist, `${name}.js`);
  const bundled = join(dist, `${name}.bundle.tmp.js`);
  await build({
    input: target,
    platform: "node",
    logLevel: "warn",
    plugins: [lazyUnicode],
    output: { file: bundled, format: "esm", sourcemap: false, minify: false },
  });
  const eager = [...topLevelInitialisers(parseAst(await readFile(bundled, "utf8")))].filter(eagerUnicode);
  if (eager.length > 0) {
    await rm(bundled, { force: true });
    throw new Error(
      `scripts/bundle.mjs: dist/${name}.js would build ${eager.length} Unicode table(s) when it loads; extend lazyUnicode`,
    );
  }
  await rename(bundled, target);
  // The map tsc wrote describes the re-export, not the bundle.
  await rm(`${target}.map`, { force: true });
}

await bundle("yargs");
await bundle("zod");
