/**
 * The folder rules of src/ (README: "Architecture"). `npm run lint` runs them; so does .ci/run.
 * time.ts and errors.ts are the project's vocabulary: leaves every folder may import.
 */
/**
 * src/'s folders, top to bottom: a folder imports only folders below it (so folders cannot form a
 * cycle), and the top-level modules (time, errors, secrets, log, terminal, version) sit under all.
 */
const layers = [["cli"], ["job"], ["metrics", "statement"], ["snapshots"], ["sync"], ["proofs"], ["api", "db"], ["simulator"], ["config"]];

function layerRules() {
  return layers.slice(1).map((layer, i) => {
    const above = layers.slice(0, i + 1).flat();
    return {
      name: `layer-${layer.join("-")}`,
      comment: `${layer.join(", ")} may not import ${above.join(", ")}: those sit above it (README: Architecture).`,
      severity: "error",
      from: { path: `^src/(${layer.join("|")})/` },
      to: { path: `^src/(${above.join("|")})/` },
    };
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "A cycle means two modules are one: merge them or move what both need below them.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...layerRules(),
    {
      name: "vocabulary-is-a-leaf",
      comment: "time.ts and errors.ts import nothing of ours, so that every folder may use them.",
      severity: "error",
      from: { path: "^src/(time|errors)\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "config-is-a-leaf",
      comment: "config reads and validates the environment; it imports nothing of ours but the vocabulary.",
      severity: "error",
      from: { path: "^src/config/" },
      to: { path: "^src/", pathNot: ["^src/config/", "^src/(time|errors)\\.ts$"] },
    },
    {
      name: "api-and-simulator-know-no-storage",
      comment: "The client and the oracle never see how the mirror stores or runs: they import nothing of db, sync, job, cli.",
      severity: "error",
      from: { path: "^src/(api|simulator)/" },
      to: { path: "^src/(db|sync|job|cli|snapshots|proofs|statement|bench)/" },
    },
    {
      name: "nothing-imports-cli",
      comment: "cli is the top: commands and argument parsing only.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "nothing-ships-imports-bench",
      comment: "The bench is kept out of the shipped build.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/bench/" },
      to: { path: "^src/bench/" },
    },
    {
      name: "only-db-opens-connections",
      comment: "One door to Postgres: only db/ imports the pg driver's runtime (types are fine elsewhere).",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/db/", "^src/bench/"] },
      to: { path: "node_modules/pg/", dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/db/generated/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
