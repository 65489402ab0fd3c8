// What every metadata provider module exports: a name and probe(), which either finds the
// provider (user_data and values) or says in one line why not.

import type { Problem } from "../../config/problem.ts";
import type { MetadataProvider, MetadataResult } from "../types.ts";
import type { Probe } from "./probe.ts";

export type MetadataValues = MetadataResult["values"];

export interface ProviderFound {
  provider: MetadataProvider;
  origin: string;
  userData: Uint8Array | null;
  values: MetadataValues;
  problems: Problem[];
}

export type ProviderOutcome = { found: ProviderFound } | { reason: string };

export interface Provider {
  name: MetadataProvider;
  probe(probe: Probe): Promise<ProviderOutcome>;
}
