import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("drift-diff", async () => {
  throw new InputError("drift-diff is not implemented yet");
});
