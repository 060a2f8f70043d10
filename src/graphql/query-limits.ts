import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import { LIST_SIZE_EXTENSION, type ListSizeHint } from '../common/pagination/list-size';

/** Field nesting allowed, not counting introspection (__schema, __type). */
export const MAX_DEPTH = 12;
/** Fields an operation may resolve, each counted once per item of the lists around it. */
export const MAX_COMPLEXITY = 50_000;
/** The multiplier of a `first`/`last` argument given as a variable (its largest allowed value). */
const LIST_SIZE_UNKNOWN = 500;
/**
 * The multiplier of a list field with neither `first`/`last` nor a ListSize hint (nasDevices,
 * profiles, apiKeys, onlineSummary.byNas…): lists of what an ISP has tens or hundreds of.
 */
export const UNBOUNDED_LIST_SIZE = 100;

const clamp = (n: number, max: number) => Math.max(1, Math.min(n, max));

function listSize(value: ValueNode | undefined): number {
  if (!value) return 1;
  if (value.kind === Kind.INT) return clamp(Number(value.value), LIST_SIZE_UNKNOWN);
  return LIST_SIZE_UNKNOWN;
}

const isPageArgument = (name: string) => name === 'first' || name === 'last';

/**
 * How many items a field multiplies what is selected inside it by:
 * - its `first`/`last` argument (a variable: the largest page);
 * - without one, with the schema: the argument's default (a connection's page, `ledger`'s 20);
 *   a ListSize hint (`sessionEventBatches`: a batch's cap; `usageHistory`: `months`); any other
 *   list, UNBOUNDED_LIST_SIZE; anything else, 1.
 */
function sizeOf(field: FieldNode, def: GraphQLField<unknown, unknown> | undefined): number {
  const args = field.arguments ?? [];
  const page = args.find((a) => isPageArgument(a.name.value));
  if (page) return listSize(page.value);
  if (!def) return 1;
  const pageArgument = def.args.find((a) => isPageArgument(a.name));
  if (pageArgument) {
    const fallback = pageArgument.defaultValue;
    return typeof fallback === 'number' ? clamp(fallback, LIST_SIZE_UNKNOWN) : LIST_SIZE_UNKNOWN;
  }
  const hint = def.extensions?.[LIST_SIZE_EXTENSION] as ListSizeHint | undefined;
  if (hint) {
    if (!hint.argument) return hint.max;
    const given = args.find((a) => a.name.value === hint.argument)?.value;
    if (given) return given.kind === Kind.INT ? clamp(Number(given.value), hint.max) : hint.max;
    const fallback = def.args.find((a) => a.name === hint.argument)?.defaultValue;
    return typeof fallback === 'number' ? clamp(fallback, hint.max) : hint.max;
  }
  return isListType(getNullableType(def.type)) ? UNBOUNDED_LIST_SIZE : 1;
}

interface Cost {
  depth: number;
  complexity: number;
}

/**
 * Depth and complexity of every operation of a document, from its syntax and, given the
 * schema, the sizes of its lists, so the same check runs on HTTP (as a validation rule) and on
 * graphql-ws (in onSubscribe, where Apollo's validation rules do not run). Complexity counts
 * each field once per item of the lists around it: a `first: N` argument multiplies what is
 * inside by N, and a list without one by its size (sizeOf), so a subscription that yields
 * a batch of up to 2,000 events costs what a page of 2,000 would.
 */
export function measure(document: DocumentNode, schema?: GraphQLSchema): Cost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  const typeNamed = (name: string | undefined, fallback: GraphQLNamedType | undefined) =>
    name === undefined ? fallback : schema?.getType(name);
  const fieldOf = (parent: GraphQLNamedType | undefined, name: string) =>
    parent && (isObjectType(parent) || isInterfaceType(parent))
      ? parent.getFields()[name]
      : undefined;
  const walk = (
    set: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
    depth: number,
    factor: number,
    seen: Set<string>,
  ): Cost => {
    let maxDepth = depth;
    let complexity = 0;
    for (const s of set.selections) {
      let inner: Cost | null = null;
      if (s.kind === Kind.FIELD) {
        if (s.name.value.startsWith('__')) continue;
        const def = fieldOf(parent, s.name.value);
        complexity += factor;
        if (s.selectionSet) {
          const type = def ? getNamedType(def.type) : undefined;
          inner = walk(s.selectionSet, type, depth + 1, factor * sizeOf(s, def), seen);
        } else maxDepth = Math.max(maxDepth, depth + 1);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const type = typeNamed(s.typeCondition?.name.value, parent);
        inner = walk(s.selectionSet, type, depth, factor, seen);
      } else {
        const fragment = fragments.get(s.name.value);
        if (!fragment || seen.has(s.name.value)) continue; // cycles are a validation error
        const type = typeNamed(fragment.typeCondition.name.value, undefined);
        inner = walk(fragment.selectionSet, type, depth, factor, new Set(seen).add(s.name.value));
      }
      if (inner) {
        maxDepth = Math.max(maxDepth, inner.depth);
        complexity += inner.complexity;
      }
    }
    return { depth: maxDepth, complexity };
  };
  let worst: Cost = { depth: 0, complexity: 0 };
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const root = schema?.getRootType(d.operation) ?? undefined;
    const cost = walk(d.selectionSet, root, 0, 1, new Set());
    worst = {
      depth: Math.max(worst.depth, cost.depth),
      complexity: Math.max(worst.complexity, cost.complexity),
    };
  }
  return worst;
}

/** The errors of a document that is too deep or too complex (empty when it is within limits). */
export function queryLimitErrors(document: DocumentNode, schema: GraphQLSchema): GraphQLError[] {
  const { depth, complexity } = measure(document, schema);
  const errors: GraphQLError[] = [];
  if (depth > MAX_DEPTH) {
    errors.push(
      new GraphQLError(`Query is ${depth} levels deep; at most ${MAX_DEPTH} are allowed`, {
        extensions: { code: 'QUERY_TOO_DEEP' },
      }),
    );
  }
  if (complexity > MAX_COMPLEXITY) {
    errors.push(
      new GraphQLError(
        `Query complexity is ${complexity}; at most ${MAX_COMPLEXITY} is allowed (ask for fewer items with first, or fewer nested lists)`,
        { extensions: { code: 'QUERY_TOO_COMPLEX' } },
      ),
    );
  }
  return errors;
}

/** The same limits as a validation rule, for Apollo Server (HTTP). */
export function queryLimitsRule(context: ValidationContext) {
  for (const error of queryLimitErrors(context.getDocument(), context.getSchema())) {
    context.reportError(error);
  }
  return {};
}
