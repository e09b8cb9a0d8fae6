// @dieu44/sql-lint/schema: the zod schema of the JSON document this package produces.
export {};
