import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  buildSchema,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  isScalarType,
  print,
  astFromValue,
  type GraphQLNamedType,
} from 'graphql';

/**
 * The GraphQL contract with the frontend teams (../shared/api-contract.graphql): every name
 * in it must exist in schema.gql with the same type — add freely, rename or remove nothing.
 * What later issues deliver is listed in PENDING; each entry leaves this list when it lands.
 */
const SHARED_CONTRACT = path.join(__dirname, '..', '..', '..', 'shared', 'api-contract.graphql');
/** The contract as shared/ holds it beside the repository, else the copy committed here. */
const CONTRACT =
  process.env.API_CONTRACT ??
  (existsSync(SHARED_CONTRACT)
    ? SHARED_CONTRACT
    : path.join(__dirname, '..', 'contract', 'api-contract.graphql'));
const SCHEMA = path.join(__dirname, '..', '..', 'schema.gql');

const PENDING = new Set<string>([]);

function load(file: string, what: string): GraphQLSchema {
  if (!existsSync(file)) {
    throw new Error(
      `${what} not found at ${file}: it lives in shared/ beside the repository (set API_CONTRACT to point elsewhere)`,
    );
  }
  return buildSchema(readFileSync(file, 'utf8'));
}

function typeNames(schema: GraphQLSchema): GraphQLNamedType[] {
  return Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith('__'));
}

describe('the GraphQL contract with the frontend teams', () => {
  const contract = load(CONTRACT, 'The API contract');
  const ours = load(SCHEMA, 'schema.gql');

  const cases = typeNames(contract).filter(
    (t) => !['String', 'Int', 'Boolean', 'ID', 'Float'].includes(t.name),
  );

  it.each(cases.map((t) => [t.name, t] as const))('%s', (name, theirs) => {
    if (PENDING.has(name)) {
      expect(ours.getType(name)).toBeUndefined(); // when it lands, take it off PENDING
      return;
    }
    const mine = ours.getType(name);
    expect(mine?.constructor.name).toBe(theirs.constructor.name);
    if (isScalarType(theirs)) return;
    if (isEnumType(theirs) && isEnumType(mine)) {
      const values = mine.getValues().map((v) => v.name);
      for (const v of theirs.getValues()) expect(values).toContain(v.name);
      return;
    }
    if (isInputObjectType(theirs) && isInputObjectType(mine)) {
      const fields = mine.getFields();
      for (const f of Object.values(theirs.getFields())) {
        // The same type, or the contract's T! made optional: every request it allows still is.
        const ours = String(fields[f.name]?.type);
        const same = ours === String(f.type) || `${ours}!` === String(f.type);
        expect([f.name, same ? String(f.type) : ours]).toEqual([f.name, String(f.type)]);
      }
      for (const f of Object.values(fields)) {
        // A new input field must not make old requests invalid.
        if (!theirs.getFields()[f.name])
          expect([f.name, String(f.type).endsWith('!')]).toEqual([f.name, false]);
      }
      return;
    }
    if (isObjectType(theirs) && isObjectType(mine)) {
      const fields = mine.getFields();
      for (const f of Object.values(theirs.getFields())) {
        const key = `${name}.${f.name}`;
        if (PENDING.has(key)) {
          expect([key, fields[f.name]]).toEqual([key, undefined]);
          continue;
        }
        expect([key, String(fields[f.name]?.type)]).toEqual([key, String(f.type)]);
        for (const arg of f.args) {
          const a = fields[f.name].args.find((x) => x.name === arg.name);
          const dflt = (x: typeof arg | undefined) => {
            if (!x || x.defaultValue === undefined) return null;
            const ast = astFromValue(x.defaultValue, x.type);
            return ast ? print(ast) : null;
          };
          expect([key, arg.name, String(a?.type), dflt(a)]).toEqual([
            key,
            arg.name,
            String(arg.type),
            dflt(arg),
          ]);
        }
        for (const a of fields[f.name].args) {
          if (!f.args.find((x) => x.name === a.name)) {
            expect([
              key,
              a.name,
              String(a.type).endsWith('!') && a.defaultValue === undefined,
            ]).toEqual([key, a.name, false]);
          }
        }
      }
      return;
    }
    throw new Error(`unexpected kind of type ${name}`);
  });
});
