// @dieu44/tx-apply/schema: the zod schema of the JSON document this package produces.
export {};
