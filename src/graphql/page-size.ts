import { GraphQLError, Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import type { BadUserInputError } from '../common/errors/app-error';
import { pageSizeProblem } from '../common/pagination/connection';

/** The arguments that size a page or a list, on every field that has them. */
const PAGE_ARGUMENTS = new Set(['first', 'last']);

/**
 * Page size, checked once for the whole document before anything runs, on HTTP (an Apollo
 * plugin) and on graphql-ws (onSubscribe) alike: every `first`/`last` argument, given inline
 * or as a variable, must be 0-500. The services check again (pageSize); this check answers
 * with one error instead of one per item of an outer list, and before any SQL runs.
 */
export function pageSizeErrors(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError[] {
  const defaults = new Map<string, ValueNode>();
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of d.variableDefinitions ?? []) {
      if (v.defaultValue) defaults.set(v.variable.name.value, v.defaultValue);
    }
  }
  const valueOf = (node: ValueNode): unknown => {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (variables && Object.prototype.hasOwnProperty.call(variables, name)) return variables[name];
    const fallback = defaults.get(name);
    return fallback?.kind === Kind.INT ? Number(fallback.value) : undefined;
  };
  const errors: GraphQLError[] = [];
  visit(document, {
    Field(field) {
      for (const arg of field.arguments ?? []) {
        const name = arg.name.value;
        if (!PAGE_ARGUMENTS.has(name)) continue;
        const value = valueOf(arg.value);
        // Anything but a number fails Int coercion later, with its own error.
        if (typeof value !== 'number') continue;
        const problem = pageSizeProblem(value, name);
        if (!problem || errors.some((e) => e.extensions.field === name)) continue;
        errors.push(toGraphQLError(problem));
      }
    },
  });
  return errors;
}

function toGraphQLError(error: BadUserInputError): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      code: error.code,
      field: error.field,
      reason: error.reason,
      http: { status: 400 },
    },
  });
}
