import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("backup-marker", async () => {
  throw new InputError("backup-marker is not implemented yet");
});
