// How an argv is shown to people (dry run, error messages): quoted so it could be pasted into a
// POSIX shell and run the very same argv.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export const shellQuoteArg = (arg: string): string =>
  arg !== "" && SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

export const shellQuote = (argv: readonly string[]): string => argv.map(shellQuoteArg).join(" ");
