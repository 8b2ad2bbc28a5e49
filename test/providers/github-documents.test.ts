import { validate } from '@octokit/graphql-schema';
import { parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as documents from '../../src/providers/github/documents.js';
import { DOCUMENTS } from '../../src/providers/github/index.js';

describe("every GitHub document validates against GitHub's schema", () => {
  it('DOCUMENTS lists every document the module exports', () => {
    const exported = Object.entries(documents).filter(([name, value]) => name !== 'DOCUMENTS' && typeof value === 'string');
    expect(exported.length).toBeGreaterThan(0);
    // Documents built for their variables (one alias per phase branch) are listed with a sample.
    const built = [documents.phaseBranchesDocument(2)];
    expect(new Set(Object.values(DOCUMENTS))).toEqual(new Set([...exported.map(([, value]) => value), ...built]));
  });

  for (const [name, document] of Object.entries(DOCUMENTS)) {
    it(name, () => {
      const errors = validate(document);
      expect(errors.map((e) => e.message)).toEqual([]);
      const operation = parse(document).definitions[0] as OperationDefinitionNode;
      expect(operation.name?.value).toBe(name);
    });
  }

  it('the validator does catch a wrong document', () => {
    expect(validate('query { repository(owner: "a", name: "b") { noSuchField } }').length).toBeGreaterThan(0);
  });
});
