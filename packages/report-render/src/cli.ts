import { InputError, runCli } from "@dieu44/plumbing/exit";

// Placeholder until this tool's issue lands: it refuses clearly instead of pretending to work.
await runCli("report-render", async () => {
  throw new InputError("report-render is not implemented yet");
});
