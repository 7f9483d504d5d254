// A precise check that SQL is parameterized: finds, with the TypeScript parser, every template
// literal that looks like SQL and every first argument of a `.query(...)` call in a source file,
// and proves that whatever is interpolated into them is a constant of the program or went through
// an escaping function (identifiers, literals in DDL that cannot take parameters). Values from the
// API, the environment or a caller are function parameters or come from them, and are never proven
// safe: they must travel as $n parameters.
import ts from "typescript";

export interface SqlFinding {
  file: string;
  line: number;
  text: string;
  reason: string;
}

/** The folder that holds every statement the product runs (src/db/sql/README.md). */
export const sqlHome = "src/db/sql/";

/** Escaping functions whose result is safe to interpolate into SQL text. */
const escapers = new Set(["ident", "escapeIdentifier", "escapeLiteral"]);
/** A statement's first keyword, upper case: a template or string starting with one is SQL. */
const sqlKeywords = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|GRANT|REVOKE|TRUNCATE|COPY|SET|BEGIN)\b/;
/** Prisma's escape hatches from its parameterized tagged templates. */
const unsafeApis = new Set(["$queryRawUnsafe", "$executeRawUnsafe"]);

/**
 * Names a module exports as constants made of literals only (e.g. a column list), which another
 * module may interpolate: file path (as imported, without extension) → names.
 */
export type ProgramConstants = Map<string, Set<string>>;

export function collectConstants(files: { file: string; source: string }[]): ProgramConstants {
  const constants: ProgramConstants = new Map();
  for (const { file, source } of files) {
    const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
    const names = new Set<string>();
    const literal = (e: ts.Expression): boolean =>
      ts.isStringLiteral(e) ||
      ts.isNumericLiteral(e) ||
      ts.isNoSubstitutionTemplateLiteral(e) ||
      ((ts.isAsExpression(e) || ts.isParenthesizedExpression(e)) && literal(e.expression));
    for (const statement of sf.statements) {
      if (!ts.isVariableStatement(statement) || (statement.declarationList.flags & ts.NodeFlags.Const) === 0) continue;
      if (!statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      for (const decl of statement.declarationList.declarations) {
        if (ts.isIdentifier(decl.name) && decl.initializer && literal(decl.initializer)) names.add(decl.name.text);
      }
    }
    constants.set(file.replace(/\.(ts|mts|js|mjs)$/, ""), names);
  }
  return constants;
}

function joinPath(dir: string, specifier: string): string {
  const parts = dir.split("/").filter(Boolean);
  for (const piece of specifier.split("/")) {
    if (piece === "..") parts.pop();
    else if (piece !== ".") parts.push(piece);
  }
  return parts.join("/");
}

export function auditSql(file: string, source: string, programConstants: ProgramConstants = new Map()): SqlFinding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
  const consts = new Map<string, ts.Expression>();
  const imported = new Set<string>();
  /** Names imported from src/db/sql/, the home of every statement (each of its files audited on its own). */
  const importedStatements = new Set<string>();
  const importedConstants = new Set<string>();
  const visitDecls = (node: ts.Node) => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      ts.isVariableDeclarationList(node.parent) &&
      (node.parent.flags & ts.NodeFlags.Const) !== 0
    ) {
      consts.set(node.name.text, node.initializer);
    }
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text.startsWith(".")) {
      const target = joinPath(file.split("/").slice(0, -1).join("/"), node.moduleSpecifier.text).replace(/\.(ts|mts|js|mjs)$/, "");
      const exported = programConstants.get(target) ?? new Set<string>();
      const bindings = node.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          imported.add(element.name.text);
          if (target.startsWith(sqlHome)) importedStatements.add(element.name.text);
          if (exported.has((element.propertyName ?? element.name).text)) importedConstants.add(element.name.text);
        }
      }
    }
    ts.forEachChild(node, visitDecls);
  };
  visitDecls(sf);

  /** `trusted` holds names known to stand for parts of a safe constant (the parameters of a map over one). */
  const safe = (expr: ts.Expression, trusted: Set<string>, depth = 0): boolean => {
    if (depth > 20) return false;
    const again = (e: ts.Expression) => safe(e, trusted, depth + 1);
    if (ts.isStringLiteral(expr) || ts.isNumericLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return true;
    if (ts.isTemplateExpression(expr)) return expr.templateSpans.every((span) => again(span.expression));
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr) || ts.isNonNullExpression(expr))
      return again(expr.expression);
    if (ts.isConditionalExpression(expr)) return again(expr.whenTrue) && again(expr.whenFalse);
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.PlusToken) return again(expr.left) && again(expr.right);
    if (ts.isArrayLiteralExpression(expr)) return expr.elements.every((e) => again(e as ts.Expression));
    if (ts.isIdentifier(expr)) {
      if (trusted.has(expr.text)) return true;
      const init = consts.get(expr.text);
      if (init) return again(init);
      // Literal constants of another module, and the statements of src/db/sql/ (audited file by file).
      return importedConstants.has(expr.text) || (importedStatements.has(expr.text) && /Sql$/.test(expr.text));
    }
    if (ts.isCallExpression(expr)) {
      const callee = expr.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
      if (escapers.has(name)) return true;
      if (ts.isPropertyAccessExpression(callee)) {
        const receiver = callee.expression;
        // <safe>.join(<safe>), <safe>.split(<safe>): still made of constants.
        if ((name === "join" || name === "split") && again(receiver) && expr.arguments.every((a) => again(a))) return true;
        // <safe>.map((x) => <safe given x>) and <anything>.map((x) => <escaped>).
        if (name === "map" && expr.arguments.length === 1) {
          const fn = expr.arguments[0]!;
          if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isExpression(fn.body)) {
            const params = fn.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ""));
            if (again(receiver)) return safe(fn.body, new Set([...trusted, ...params]), depth + 1);
            return safe(fn.body, trusted, depth + 1);
          }
        }
      }
    }
    return false;
  };

  const findings: SqlFinding[] = [];
  const report = (node: ts.Node, reason: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    findings.push({ file, line: line + 1, text: node.getText(sf).slice(0, 160), reason });
  };
  const visit = (node: ts.Node) => {
    if (ts.isTemplateExpression(node)) {
      if (sqlKeywords.test(node.head.text)) {
        for (const span of node.templateSpans) {
          if (!safe(span.expression, new Set())) report(span.expression, "interpolated into SQL text");
        }
      }
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && !ts.isBinaryExpression(node.parent)) {
      const parts: ts.Expression[] = [];
      const flatten = (e: ts.Expression): void => {
        if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
          flatten(e.left);
          flatten(e.right);
        } else parts.push(e);
      };
      flatten(node);
      const first = parts[0]!;
      const looksSql = (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first)) && sqlKeywords.test(first.text);
      if (looksSql) for (const part of parts) if (!safe(part, new Set())) report(part, "concatenated into SQL text");
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const name = node.expression.name.text;
      if (unsafeApis.has(name)) report(node, `${name} bypasses Prisma's parameters`);
      const first = node.arguments[0];
      // pg's query(text, values): the text must be a constant; values travel as parameters.
      if (name === "query" && first && (ts.isTemplateExpression(first) || ts.isBinaryExpression(first)) && !safe(first, new Set())) {
        report(first, "query text built from a value");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}

/** A statement's first keyword, for finding statements written outside src/db/: the audit's, and the transaction and utility ones. */
const statementKeywords =
  /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|GRANT|REVOKE|TRUNCATE|COPY|SET|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SHOW|COMMENT|LOCK|VALUES|EXPLAIN|ANALYZE|VACUUM|REINDEX|CALL|DO|LISTEN|NOTIFY)\b/;

/**
 * Every string or template literal of a source file that starts like an SQL statement (upper-case
 * keyword first, as this code base writes them): outside src/db/ (and src/bench/, which is not
 * shipped) there must be none, so every statement the product runs is found under src/db/sql/.
 */
export function findSqlLiterals(file: string, source: string): SqlFinding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
  const findings: SqlFinding[] = [];
  const visit = (node: ts.Node) => {
    const text =
      ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
        ? node.text
        : ts.isTemplateExpression(node)
          ? node.head.text
          : undefined;
    if (text !== undefined && statementKeywords.test(text)) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      findings.push({ file, line: line + 1, text: node.getText(sf).slice(0, 160), reason: "SQL statement outside src/db/" });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}

/** Transaction control, which the code that owns a connection may still write beside it (src/db/ only). */
const transactionControl = /^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/;

/**
 * Files allowed to hold a statement outside src/db/sql/, each with its reason. Not shipped: the
 * bench (src/bench/, which also keeps the previous release's statements to compare against).
 * The comparison of the mirror with the simulator's ledger (src/proofs/against-ledger.ts) reads the
 * mirror with its own query: it checks what the sync wrote, so it shares nothing with the sync's
 * statements.
 */
export const sqlHomeExceptions: readonly { path: RegExp; why: string }[] = [
  { path: /^src\/bench\//, why: "not shipped; keeps the previous release's statements" },
  { path: /^src\/proofs\/against-ledger\.ts$/, why: "the oracle's own read of the mirror, sharing nothing with what it checks" },
];

/**
 * Statements written where they do not belong: every statement lives under src/db/sql/; elsewhere
 * in src/db/ only transaction control (BEGIN, COMMIT, ROLLBACK) beside the connection it runs on;
 * outside src/db/ nothing, but for sqlHomeExceptions. Paths are relative to the repository.
 */
export function misplacedSql(file: string, source: string): SqlFinding[] {
  if (file.startsWith(sqlHome) || sqlHomeExceptions.some((e) => e.path.test(file))) return [];
  const found = findSqlLiterals(file, source);
  if (!file.startsWith("src/db/")) return found;
  return found.filter((f) => !transactionControl.test(f.text.slice(1, -1)));
}
