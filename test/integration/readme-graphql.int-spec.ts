import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';

/**
 * The README's GraphQL (the cookbook, the examples) is copy-paste ready: every ```graphql block,
 * and the operation in the browser example, is valid against the committed schema.gql (which
 * schema:check keeps equal to what the server serves).
 */
const root = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const schema = buildSchema(readFileSync(path.join(root, 'schema.gql'), 'utf8'));

const graphqlBlocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
const jsOperations = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].flatMap((m) =>
  [...m[1].matchAll(/query: `([\s\S]*?)`/g)].map((q) => q[1]),
);

describe("the README's GraphQL", () => {
  it('has the cookbook: the two pages and the live subscription', () => {
    expect(graphqlBlocks.join('\n')).toMatch(/query OnlineCustomers/);
    expect(graphqlBlocks.join('\n')).toMatch(/query Customers/);
    expect(jsOperations.join('\n')).toMatch(/sessionEventBatches/);
  });

  it.each([...graphqlBlocks, ...jsOperations].map((text, i) => [i + 1, text] as const))(
    'block %i is valid against schema.gql',
    (_i, text) => {
      // A block may hold operations and a comment after each (# …).
      const errors = validate(schema, parse(text));
      expect(errors.map((e) => e.message)).toEqual([]);
    },
  );
});
