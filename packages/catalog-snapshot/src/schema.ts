// @dieu44/catalog-snapshot/schema: the zod schema of the JSON document this package produces.
export {};
