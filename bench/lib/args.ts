// The command line of the bench scripts: `--name value` options and bare flags.

export const args = process.argv.slice(2);

/** The value after --name; `def` when it is absent (without a default, absence is an error). */
export function opt(name: string, def?: string): string {
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && args[i + 1]) return args[i + 1]!;
  if (def === undefined) throw new Error(`--${name} is required`);
  return def;
}
