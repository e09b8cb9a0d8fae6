import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("dieu44", async () => {
  throw new InputError("dieu44 is not implemented yet");
});
