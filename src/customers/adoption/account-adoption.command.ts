import { positionals, UsageError } from '../../common/cli/cli-args';
import {
  AdoptionItemKind,
  type AccountAdoptionService,
  type AdoptionOutcome,
} from './account-adoption.service';

/** Problems listed on the terminal; the rest are counted (the GraphQL result has them all). */
const PROBLEMS_SHOWN = 200;

/**
 * `radgraph adopt [--dry-run]`: AccountAdoptionService from the command line. Prints the counts
 * and each problem; exit code 0 when no group or user was left out, 1 otherwise.
 */
export async function adoptCommand(
  adoption: AccountAdoptionService,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  if (positionals(args, ['dry-run'], []).length > 0) {
    throw new UsageError('adopt takes no arguments besides --dry-run');
  }
  const dryRun = args.includes('--dry-run');
  const outcome = await adoption.adopt({ dryRun });
  for (const line of adoptionReport(outcome)) out(line);
  return outcome.profilesSkipped + outcome.customersSkipped === 0 ? 0 : 1;
}

export function adoptionReport(o: AdoptionOutcome): string[] {
  const verb = o.dryRun ? 'would be adopted' : 'adopted';
  const lines = [
    `Profiles: ${o.profilesAdopted} ${verb}, ${o.profilesSkipped} not.`,
    `Customers: ${o.customersAdopted} ${verb}, ${o.customersSkipped} not.`,
  ];
  for (const p of o.problems.slice(0, PROBLEMS_SHOWN)) {
    const what = p.kind === AdoptionItemKind.PROFILE ? 'group' : 'user';
    lines.push(`${what} ${p.name}: ${p.adopted ? `${verb}, but ` : 'not adopted: '}${p.reason}`);
  }
  if (o.problems.length > PROBLEMS_SHOWN) {
    lines.push(`… and ${o.problems.length - PROBLEMS_SHOWN} more problems.`);
  }
  if (o.dryRun) lines.push('Dry run: nothing was written.');
  return lines;
}
