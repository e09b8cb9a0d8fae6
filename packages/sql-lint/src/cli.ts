import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("sql-lint", async () => {
  throw new InputError("sql-lint is not implemented yet");
});
