#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx, so the package works from a clone without a build step.
import { register } from "tsx/esm/api";

register();
await import("../harness/cli.ts");
