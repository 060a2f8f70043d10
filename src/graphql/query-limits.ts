import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';

/** Field nesting allowed, not counting introspection (__schema, __type). */
export const MAX_DEPTH = 12;
/** Fields an operation may resolve, each counted once per item of the lists around it. */
export const MAX_COMPLEXITY = 50_000;
/** The multiplier of a `first`/`last` argument given as a variable (its largest allowed value). */
const LIST_SIZE_UNKNOWN = 500;

function listSize(value: ValueNode | undefined): number {
  if (!value) return 1;
  if (value.kind === Kind.INT) return Math.max(1, Math.min(Number(value.value), LIST_SIZE_UNKNOWN));
  return LIST_SIZE_UNKNOWN;
}

interface Cost {
  depth: number;
  complexity: number;
}

/**
 * Depth and complexity of every operation of a document, from its syntax alone, so the same
 * check runs on HTTP (as a validation rule) and on graphql-ws (in onSubscribe, where Apollo's
 * validation rules do not run). Complexity counts each field once per item of the lists
 * around it: a `first: N` argument multiplies what is inside by N.
 */
export function measure(document: DocumentNode): Cost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  const walk = (set: SelectionSetNode, depth: number, factor: number, seen: Set<string>): Cost => {
    let maxDepth = depth;
    let complexity = 0;
    for (const s of set.selections) {
      let inner: Cost | null = null;
      if (s.kind === Kind.FIELD) {
        if (s.name.value.startsWith('__')) continue;
        const args = s.arguments ?? [];
        const size = listSize(
          args.find((a) => a.name.value === 'first' || a.name.value === 'last')?.value,
        );
        complexity += factor;
        if (s.selectionSet) inner = walk(s.selectionSet, depth + 1, factor * size, seen);
        else maxDepth = Math.max(maxDepth, depth + 1);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        inner = walk(s.selectionSet, depth, factor, seen);
      } else {
        const fragment = fragments.get(s.name.value);
        if (!fragment || seen.has(s.name.value)) continue; // cycles are a validation error
        inner = walk(fragment.selectionSet, depth, factor, new Set(seen).add(s.name.value));
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
    const cost = walk(d.selectionSet, 0, 1, new Set());
    worst = {
      depth: Math.max(worst.depth, cost.depth),
      complexity: Math.max(worst.complexity, cost.complexity),
    };
  }
  return worst;
}

/** The errors of a document that is too deep or too complex (empty when it is within limits). */
export function queryLimitErrors(document: DocumentNode): GraphQLError[] {
  const { depth, complexity } = measure(document);
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
  for (const error of queryLimitErrors(context.getDocument())) context.reportError(error);
  return {};
}
