// The Dockerfile as stages of instructions (parsed by dockerfile-ast), with the few accessors the
// policy checks and the build replay need.
import { readFileSync } from "node:fs";
import { DockerfileParser, From, type Instruction, JSONInstruction, ModifiableInstruction, PropertyInstruction } from "dockerfile-ast";

export interface Stage {
  index: number;
  /** `AS name`, if any. */
  name: string | undefined;
  from: From;
  /** The stage's instructions after its FROM. */
  instructions: Instruction[];
}

export function readStages(file: string): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(file, "utf8"));
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) {
      stages.push({ index: stages.length, name: instruction.getBuildStage() ?? undefined, from: instruction, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.getKeyword() !== "ARG") throw new Error(`${instruction.getKeyword()} before the first FROM`);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

export function keyword(instruction: Instruction): string {
  return instruction.getKeyword().toUpperCase();
}

export function ofKind(stage: Stage, ...keywords: string[]): Instruction[] {
  return stage.instructions.filter((instruction) => keywords.includes(keyword(instruction)));
}

/** `--name=value` flags (COPY --from, RUN --mount, ...). */
export function flags(instruction: Instruction): Map<string, string | null> {
  const list = instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
  return new Map(list.map((flag) => [flag.getName(), flag.getValue()]));
}

/** The JSON array of an exec-form instruction, or undefined for the shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  if (!(instruction instanceof JSONInstruction)) return undefined;
  const strings = instruction.getJSONStrings();
  const content = instruction.getArgumentsContent()?.trim() ?? "";
  return strings.length > 0 && content.startsWith("[") && content.endsWith("]") ? strings.map((s) => s.getJSONValue()) : undefined;
}

/** Whitespace-separated arguments, flags excluded (COPY sources and destination, WORKDIR, USER). */
export function words(instruction: Instruction): string[] {
  return execForm(instruction) ?? instruction.getArguments().map((argument) => argument.getValue());
}

/** ENV / ARG name-value pairs (an ARG without a default has value null). */
export function properties(instruction: Instruction): [string, string | null][] {
  if (!(instruction instanceof PropertyInstruction)) return [];
  // getValue() is the value as Docker sets it (quotes removed); getUnescapedValue() keeps the quotes.
  return instruction.getProperties().map((property) => [property.getName(), property.getValue()]);
}

/** The last value an instruction kind sets in a stage (USER, WORKDIR-like single-value ones). */
export function lastOf(stage: Stage, kind: string): Instruction | undefined {
  return ofKind(stage, kind).at(-1);
}
