// @dieu44/report-render/schema: the zod schema of the JSON document this package produces.
export {};
