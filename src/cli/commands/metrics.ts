import { loadConfig } from "../../config/index.js";
import { ConfigError, SyncError } from "../../errors.js";
import { deletePushedMetrics, pushedCommands, pushJobName } from "../../metrics/push.js";
import { type Command, parseOptions } from "../command.js";

const accountRule = /^[A-Za-z0-9._-]{1,64}$/;

export const metricsCommand: Command = {
  name: "metrics",
  summary: "delete a retired account's series from the Pushgateway",
  help: `Usage: generect-sync metrics delete [--account A]... [--command run|snapshot]

The Pushgateway keeps every series it was pushed until someone deletes it: an account that no
longer syncs keeps showing its last run, and its last-success timestamp keeps ageing into alerts.
\`metrics delete\` removes the account's groups (job="${pushJobName}", account, command) from
PUSHGATEWAY_URL: both commands' groups (${pushedCommands.join(", ")}) unless --command names one.
Deleting a group that is not there succeeds, so it is safe to repeat. Other accounts' groups and
anything else in the Pushgateway are left alone.

Options:
  --account A      the account whose groups to delete (repeatable; default SYNC_ACCOUNT)
  --command C      only this command's group (${pushedCommands.join(" or ")})

Environment: PUSHGATEWAY_URL (required), SYNC_ACCOUNT

Example:
  PUSHGATEWAY_URL=http://pushgateway:9091 generect-sync metrics delete --account acme-eu`,
  async run(argv, io) {
    const { values, positionals } = parseOptions(
      "metrics",
      argv,
      {
        account: { type: "string", multiple: true },
        command: { type: "string" },
      },
      { positionals: "ACTION" },
    );
    if (positionals.length !== 1 || positionals[0] !== "delete") {
      throw new ConfigError(
        `metrics: expected the action \`delete\`, got ${positionals.length ? JSON.stringify(positionals.join(" ")) : "none"} (see generect-sync metrics --help)`,
      );
    }
    const config = loadConfig(io.env);
    if (!config.pushgatewayUrl) throw new ConfigError("PUSHGATEWAY_URL is not set: metrics delete needs the Pushgateway to delete from");
    const accounts = values.account ?? [config.account];
    for (const account of accounts) {
      if (!accountRule.test(account))
        throw new ConfigError(`metrics: --account ${JSON.stringify(account)} must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    const command = values.command;
    if (command !== undefined && !(pushedCommands as readonly string[]).includes(command)) {
      throw new ConfigError(`metrics: --command must be ${pushedCommands.join(" or ")}, got ${JSON.stringify(command)}`);
    }
    for (const account of accounts) {
      for (const one of command ? [command] : pushedCommands) {
        // One group at a time, printed as it goes: after a failure the output says what is already gone.
        const [group] = await deletePushedMetrics(config.pushgatewayUrl, account, [one]).catch((error: unknown) => {
          throw new SyncError(
            "PUSHGATEWAY_FAILED",
            `could not delete the ${one} metrics of account ${account} from ${config.pushgatewayUrl}: ${(error as Error).message}`,
          );
        });
        io.out(`deleted ${group}`);
      }
    }
    return 0;
  },
};
