// Version and commit are compile-time constants (`bun build --define`, scripts/build.sh); under
// vitest they are not defined, so fall back to package.json's version and "source".

declare const AGENT_VERSION: string;
declare const AGENT_COMMIT: string;

export const VERSION: string = typeof AGENT_VERSION === "string" ? AGENT_VERSION : "0.0.0-dev";
export const COMMIT: string = typeof AGENT_COMMIT === "string" ? AGENT_COMMIT : "source";

export const versionLine = (program: string): string => `${program} ${VERSION} (commit ${COMMIT})`;
