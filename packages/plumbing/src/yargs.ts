/**
 * yargs, as every dieu44 command line loads it. The build replaces the compiled module with one
 * bundled file (scripts/bundle.mjs): loading yargs' forty-odd modules one by one was a
 * fifth of each tool's `--help` time. Types and behaviour are yargs' own.
 */
export { default } from "yargs";
export { hideBin } from "yargs/helpers";
