// Kubernetes manifests as the tests see them: every YAML document under a directory, each validated
// offline against the Kubernetes API schemas of kubernetes-models (the class picked by apiVersion and
// kind), plus accessors for the pod specs inside workloads.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { parseAllDocuments } from "yaml";

export interface Manifest {
  /** Relative to the manifests directory, `/`-separated. */
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  object: Record<string, any>;
}

export const kustomizeApiVersion = /^kustomize\.config\.k8s\.io\//;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => file.split(path.sep).join("/"))
    .sort();
}

/** Every non-empty document of every .yaml/.yml file under `dir`; YAML errors throw. */
export function loadManifests(dir: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of yamlFiles(dir)) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object = doc.toJS({ maxAliasCount: -1 }) as Record<string, any> | null;
      if (object === null || object === undefined) continue;
      manifests.push({
        file,
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata?.name ?? object.metadata?.generateName ?? "",
        object,
      });
    }
  }
  return manifests;
}

/** Parses `kubectl kustomize` output (or any multi-document YAML text). */
export function parseDocuments(text: string, file: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Record<string, any> | null)
    .filter((object): object is Record<string, any> => object !== null && object !== undefined)
    .map((object) => ({ file, apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name ?? "", object }));
}

interface ModelClass {
  kind: string;
  new (data: unknown): { validate(): void };
}

/**
 * Validates a manifest against its Kubernetes schema; throws for an unknown apiVersion/kind (a typo
 * there would otherwise pass unnoticed). The module path mirrors the apiVersion: `batch/v1` is
 * kubernetes-models/batch/v1, core `v1` is kubernetes-models/v1.
 */
export async function validateManifest(manifest: Manifest): Promise<void> {
  if (typeof manifest.apiVersion !== "string" || typeof manifest.kind !== "string")
    throw new Error(`${manifest.file}: a document without apiVersion/kind`);
  let models: Record<string, unknown>;
  try {
    models = await import(`kubernetes-models/${manifest.apiVersion}`);
  } catch {
    throw new Error(`${manifest.file}: unknown apiVersion ${manifest.apiVersion}`);
  }
  const model = models[manifest.kind] as ModelClass | undefined;
  if (typeof model !== "function" || model.kind !== manifest.kind)
    throw new Error(`${manifest.file}: unknown kind ${manifest.apiVersion} ${manifest.kind}`);
  try {
    new model(manifest.object).validate();
  } catch (error) {
    throw new Error(`${manifest.file}: ${manifest.kind} ${manifest.name} is invalid: ${(error as Error).message}`);
  }
}

/** The pod spec a workload runs, if the manifest is one. */
export function podSpecOf(manifest: Manifest): IPodSpec | undefined {
  const spec = manifest.object.spec;
  switch (manifest.kind) {
    case "CronJob":
      return spec?.jobTemplate?.spec?.template?.spec;
    case "Job":
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return spec?.template?.spec;
    case "Pod":
      return spec;
    default:
      return undefined;
  }
}

export function containersOf(pod: IPodSpec): IContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** Kubernetes memory quantity in bytes (Ki/Mi/Gi and k/M/G suffixes). */
export function bytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?|k)?$/.exec(String(quantity));
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = match[2] ?? "";
  const factor = unit.endsWith("i")
    ? 1024 ** ("KMGT".indexOf(unit[0]!) + 1)
    : unit === ""
      ? 1
      : 1000 ** ("kMGT".indexOf(unit === "K" ? "k" : unit) + 1);
  return Number(match[1]) * factor;
}
