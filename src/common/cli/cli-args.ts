/** A command line that does not say what to do: the CLI prints it with the usage. */
export class UsageError extends Error {}

/** `--name value` or `--name=value`; undefined when absent. */
export function optionalOption(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  const inline = args.find((a) => a.startsWith(`--${name}=`));
  if (!inline && i < 0) return undefined;
  const value = inline ? inline.slice(name.length + 3) : args[i + 1];
  if (value === undefined || value === '' || value.startsWith('--')) {
    throw new UsageError(`--${name} needs a value`);
  }
  return value;
}

/** `--name value` or `--name=value`, which must be there. */
export function option(args: readonly string[], name: string): string {
  const value = optionalOption(args, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * The arguments that are not options: what is left once every `--flag` in `flags` and every
 * `--option value` in `options` is taken out. An option it does not know is a UsageError.
 */
export function positionals(
  args: readonly string[],
  flags: readonly string[],
  options: readonly string[],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      out.push(a);
      continue;
    }
    const name = a.slice(2).split('=')[0];
    if (flags.includes(name)) continue;
    if (!options.includes(name)) throw new UsageError(`unknown option ${a}`);
    if (!a.includes('=')) i++;
  }
  return out;
}
