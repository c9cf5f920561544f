import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The package's public surface as its users see it: package.json's entry points and, for each
 * name the main entry's declarations export, its declaration with JSDoc, read from the
 * installed package's .d.ts files.
 */
export function apiReport(packageDir: string): string {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    bin: unknown;
    exports: { '.': { types: string } };
  };
  const sections = [`// package.json\n${JSON.stringify({ bin: manifest.bin, exports: manifest.exports }, null, 2)}`];
  const indexPath = manifest.exports['.'].types;
  const index = parse(packageDir, indexPath);
  for (const statement of index.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.exportClause || !ts.isNamedExports(statement.exportClause)) {
      throw new Error(`${indexPath}: only "export { ... } from" is expected, found: ${statement.getText(index)}`);
    }
    const specifier = (statement.moduleSpecifier as ts.StringLiteral).text.replace(/\.js$/, '.d.ts');
    const from = join(indexPath, '..', specifier);
    const source = parse(packageDir, from);
    for (const element of statement.exportClause.elements) {
      sections.push(`// ${element.name.text} (${from})\n${declarationNamed(source, element.name.text)}`);
    }
  }
  return sections.join('\n\n') + '\n';
}

function parse(packageDir: string, path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(join(packageDir, path), 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** The declaration's text with its own JSDoc (not a file comment that happens to precede it). */
function declarationNamed(source: ts.SourceFile, name: string): string {
  const found = source.statements.find((statement) =>
    ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.some((declaration) => declaration.name.getText(source) === name)
      : (statement as { name?: ts.Identifier }).name?.text === name,
  );
  if (!found) throw new Error(`${source.fileName}: no declaration of ${name}`);
  const doc = ts.getJSDocCommentsAndTags(found).filter(ts.isJSDoc).at(-1);
  return doc ? `${doc.getText(source)}\n${found.getText(source)}` : found.getText(source);
}
