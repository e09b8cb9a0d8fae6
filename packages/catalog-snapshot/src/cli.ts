import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("catalog-snapshot", async () => {
  throw new InputError("catalog-snapshot is not implemented yet");
});
