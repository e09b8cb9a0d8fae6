#!/usr/bin/env node
// A one-shot run: compiling the parser's hot WebAssembly functions with TurboFan costs more CPU
// than it saves (measured: cold parse of 20,000 statements 750 ms -> 460 ms CPU). Set before the
// parser module is loaded; the library itself leaves V8 alone. Printing the usage loads neither
// the parser nor node:v8.
if (!process.argv.slice(2).some((arg) => arg === "--help" || arg === "-h")) {
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--liftoff-only");
}
await import("../dist/cli.js");
