// .dockerignore as the Docker builder reads it (moby's patternmatcher): one pattern a line, `#`
// comments, `!` re-includes, the last matching pattern wins, a pattern that matches a parent directory
// matches everything below it, `*` and `?` stay within one path segment, `**` spans any number.

export interface IgnoreRule {
  pattern: string;
  negate: boolean;
  regex: RegExp;
}

/** A Go-style glob as a regex over `/`-separated relative paths (also used for COPY sources). */
export function globRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        source += "(.*/)?"; // `**/x` also matches `x` at the top
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "\\" && i + 1 < pattern.length) {
      source += `\\${pattern[++i]}`;
    } else {
      source += /[.+^${}()|[\]\\]/.test(char) ? `\\${char}` : char;
    }
  }
  return new RegExp(`^${source}$`);
}

/** Cleans a pattern as filepath.Clean would, relative to the context root. */
export function clean(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = clean(negate ? line.slice(1).trim() : line);
    if (pattern === "") continue;
    rules.push({ pattern, negate, regex: globRegex(pattern) });
  }
  return rules;
}

/** Whether the builder leaves `file` (a path relative to the context, `/`-separated) out of the context. */
export function isIgnored(rules: IgnoreRule[], file: string): boolean {
  const parts = file.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negate;
  }
  return ignored;
}
