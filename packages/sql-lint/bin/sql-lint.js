#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// A one-shot run: compiling the parser's hot WebAssembly functions with TurboFan costs more CPU
// than it saves (measured: cold parse of 20,000 statements 750 ms -> 460 ms CPU). Set before the
// parser module is loaded; the library itself leaves V8 alone.
setFlagsFromString("--liftoff-only");
await import("../dist/cli.js");
