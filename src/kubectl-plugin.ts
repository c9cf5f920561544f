#!/usr/bin/env node
// kubectl runs `kubectl ecr-credentials ARGS` as `kubectl-ecr_credentials ARGS`. A plugin is for
// looking at a cluster: without arguments it shows the help rather than rendering a bundle into
// whatever directory the operator happens to stand in.
import { runCommand } from './command.js';

const argv = process.argv.slice(2);
process.exitCode = await runCommand(argv.length === 0 ? ['--help'] : argv);
