#!/usr/bin/env node
// An apply needs the parser and pg: start reading and compiling the parser's WebAssembly now, in
// the background, so that it overlaps the rest of the start-up instead of following it. Printing
// the usage needs neither (nor node:v8), and is not made to wait for them.
const usageOnly = process.argv.slice(2).some((arg) => arg === "--help" || arg === "-h");
if (!usageOnly) {
  // A one-shot run, like sql-lint's CLI: left to itself V8 tiers the parser's hot WebAssembly
  // functions up with TurboFan on background threads, which on a small machine steals the CPU the
  // connect and the first statements need (measured: connect 100 ms -> 13 ms, wall -0.1 s on 1,000
  // statements). Set before the parser module is loaded; the library itself leaves V8 alone.
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--liftoff-only");
  const parser = import("@dieu44/sql-lint/script");
  // pg through importPg: without its Cloudflare probe, which would load undici.
  const { importPg } = await import("@dieu44/plumbing/pg-import");
  await importPg(() => import("pg"));
  await parser;
}
await import("../dist/cli.js");
