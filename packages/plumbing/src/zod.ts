/**
 * zod, as every dieu44 package builds and checks its documents with it: `z` here is zod's own
 * namespace cut to what the packages use (./zod-api.ts), and the build replaces the compiled
 * module with one bundled file of just that (scripts/bundle.mjs). zod's full entry loads about a
 * hundred modules, its sixty locales among them: about 0.1 s of the start of every command line
 * that reads a document, against about 0.02 s for this. Types and behaviour are zod's own, and
 * zod 4 recognises its schemas across copies (instanceof goes by trait, not by class), so a schema
 * built here composes with an application's own zod and the other way round.
 */
export * as z from "./zod-api.js";
