import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../src/config.js';
import { OPTIONS, OPTION_NAMES, PROP_NAMES } from '../src/options.js';
import { withPropNames } from './helpers.js';

interface DocumentedField {
  readonly summary: string;
  readonly defaultTag: string | undefined;
}

/** The fields of an interface in src/options.ts with their JSDoc, as an editor shows them. */
function documentedFields(interfaceName: string): Map<string, DocumentedField> {
  const path = join(import.meta.dirname, '..', 'src', 'options.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const declaration = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(statement) && statement.name.text === interfaceName,
  );
  if (!declaration) throw new Error(`no interface ${interfaceName} in src/options.ts`);
  const fields = new Map<string, DocumentedField>();
  for (const member of declaration.members) {
    const doc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc);
    const defaultTag = ts.getJSDocTags(member).find((tag) => tag.tagName.text === 'default');
    fields.set(member.name!.getText(source), {
      summary: ts.getTextOfJSDocComment(doc?.comment) ?? '',
      // `*/` would end the comment, so a schedule's `*/6` is written `*\/6` there.
      defaultTag: defaultTag ? ts.getTextOfJSDocComment(defaultTag.comment)?.replaceAll('*\\/', '*/') : undefined,
    });
  }
  return fields;
}

describe('the construct props are the options table', () => {
  const props = documentedFields('RefreshOptions');
  const commandOnly = documentedFields('RawOptions');

  test('one field per option: props for all but outDir, which only the command has', () => {
    expect([...props.keys()].sort()).toEqual([...PROP_NAMES].sort());
    expect([...commandOnly.keys()]).toEqual(['outDir']);
    expect([...PROP_NAMES, 'outDir'].sort()).toEqual([...OPTION_NAMES].sort());
  });

  test.each(PROP_NAMES)('%s: a sentence for construct users and the table default as @default', (name) => {
    const field = props.get(name);
    expect(field?.summary).toMatch(/^[A-Z].*\.$/s);
    expect(field?.summary, 'props are documented by prop names, not flags').not.toContain('--');
    expect(field?.defaultTag).toBe(withPropNames(OPTIONS[name].defaultText));
  });

  test('outDir documents the command default', () => {
    expect(commandOnly.get('outDir')?.defaultTag).toBe(OPTIONS.outDir.defaultText);
  });

  test.each(
    OPTION_NAMES.filter((name) => !OPTIONS[name].defaultText.startsWith('- ') && OPTIONS[name].type !== 'list'),
  )('%s: the documented default is the one applied', (name) => {
    expect(String(DEFAULTS[name])).toBe(OPTIONS[name].defaultText);
  });
});
