// @dieu44/drift-diff/schema: the zod schema of the JSON document this package produces.
export {};
