#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// A one-shot run, like sql-lint's CLI: left to itself V8 tiers the parser's hot WebAssembly
// functions up with TurboFan on background threads, which on a small machine steals the CPU the
// connect and the first statements need (measured: connect 100 ms -> 13 ms, wall -0.1 s on 1,000
// statements). Set before the parser module is loaded; the library itself leaves V8 alone.
setFlagsFromString("--liftoff-only");
await import("../dist/cli.js");
