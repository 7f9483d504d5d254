// Entry point of the simulator child process (`--simulator process`): a SimHost driven over IPC by
// ChildSimulator (sim-process.ts). It exits when the parent disconnects.
import { SimHost, type SimulatorStart } from "./sim-host.js";

interface Request {
  id: number;
  op: "start" | "requests" | "mutate" | "copy" | "close";
  args: unknown[];
}

let host: SimHost | undefined;

async function handle(request: Request): Promise<unknown> {
  if (request.op === "start") {
    host = await SimHost.start(request.args[0] as SimulatorStart);
    return { url: host.url, token: host.token, size: host.size };
  }
  if (!host) throw new Error("the simulator is not started");
  switch (request.op) {
    case "requests":
      return host.requests();
    case "mutate":
      return host.mutate(request.args[0] as Parameters<SimHost["mutate"]>[0]);
    case "copy":
      return host.writeCopyFile(...(request.args as [string, string, string[]]));
    case "close":
      await host.close();
      host = undefined;
      return undefined;
  }
}

process.on("message", (request: Request) => {
  handle(request).then(
    (value) => process.send!({ id: request.id, ok: true, value }),
    (error: unknown) =>
      process.send!({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on("disconnect", () => {
  void (host?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
