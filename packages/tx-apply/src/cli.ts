import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("tx-apply", async () => {
  throw new InputError("tx-apply is not implemented yet");
});
