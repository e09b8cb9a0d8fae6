/**
 * @dieu44/report-render: markdown from saved dieu44 JSON documents with Handlebars templates.
 *
 * - `render(template, data, options)`: one template over one document. A document of a known kind
 *   is validated with its producer's schema first; a missing field is an InputError naming it.
 * - `renderBundle(evidenceDir, options)`: the procedure's execution log, verification result and
 *   report from an evidence folder (manifest, hashes, schemas checked), with the checked manifest.
 *
 * Rendering reads no clock and no environment: the same input gives the same bytes.
 */
import { InputError } from "@dieu44/plumbing/exit";
import { requireKnownDocument, validateKnownDocument } from "./documents.js";
import { createEngine, type TemplateOptions } from "./engine.js";

export {
  BUNDLE_TEMPLATES,
  type BundleContext,
  bundleContext,
  type EvidenceDocument,
  loadEvidence,
  type RenderedFile,
  renderBundle,
} from "./bundle.js";
export { type DeltaRow, deltaRows } from "./delta.js";
export { DOCUMENT_SCHEMAS, kindOf, knownKinds } from "./documents.js";
export { defaultTemplatesDir, type TemplateOptions } from "./engine.js";
export { erDiagram, foreignKeysOf } from "./er-diagram.js";
export { codeSpan, escapeMarkdown, fencedBlock, yamlScalar } from "./escape.js";

export interface RenderOptions extends TemplateOptions {
  /** Names the data in error messages (a file path); default "data". */
  label?: string;
}

/**
 * Renders a template (a name in the templates folder, or a .hbs file path) over data. Null as
 * the template name picks the template named after the document's kind.
 */
export function render(templateName: string | null, data: unknown, options: RenderOptions = {}): string {
  const label = options.label ?? "data";
  let template = templateName;
  let document: unknown;
  if (template === null) {
    const known = requireKnownDocument(data, label);
    template = known.kind;
    document = known.document;
  } else {
    document = validateKnownDocument(data, label);
  }
  return createEngine(options).render(template, document);
}

/** Renders several documents with one template each (or each with its kind's), joined by a blank line. */
export function renderDocuments(
  templateName: string | null,
  documents: { label: string; data: unknown }[],
  options: TemplateOptions = {},
): string {
  if (documents.length === 0) throw new InputError("no data to render: give --data FILE (or - for stdin)");
  const engine = createEngine(options);
  return documents
    .map(({ label, data }) => {
      if (templateName !== null) return engine.render(templateName, validateKnownDocument(data, label));
      const known = requireKnownDocument(data, label);
      return engine.render(known.kind, known.document);
    })
    .join("\n");
}
