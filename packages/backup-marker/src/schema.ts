// @dieu44/backup-marker/schema: the zod schema of the JSON document this package produces.
export {};
