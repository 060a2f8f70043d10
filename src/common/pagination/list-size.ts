import { Extensions } from '@nestjs/graphql';

/** The field extension (GraphQLField.extensions) that ListSize sets. */
export const LIST_SIZE_EXTENSION = 'listSize';

export interface ListSizeHint {
  /** The most items the list holds. */
  max: number;
  /**
   * The argument that says how many (`months`): its value, or else its default, up to `max`;
   * given as a variable, `max`.
   */
  argument?: string;
}

/**
 * How many items a list field without `first`/`last` holds at most. The complexity limit
 * (src/graphql/query-limits.ts) multiplies what is selected inside the list by it; a list
 * field with neither pagination arguments nor this hint counts as UNBOUNDED_LIST_SIZE items.
 */
export function ListSize(hint: ListSizeHint): MethodDecorator & PropertyDecorator {
  return Extensions({ [LIST_SIZE_EXTENSION]: hint });
}
