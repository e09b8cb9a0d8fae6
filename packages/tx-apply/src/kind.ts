/** The apply-log document's kind and version, apart from the zod schema (the apply path needs no zod). */
export const APPLY_LOG_KIND = "apply-log";
export const APPLY_LOG_FORMAT_VERSION = 1;
