// The command line: parse, build Options once, run the pipeline, print.
// No policy here.
import { createRequire } from 'node:module'
import yargs from './yargs.js'
import { ERROR_CODES, EXIT, SafeInstallError } from '../errors.js'
import type { Command } from '../types.js'
import { formatError } from '../report/human.js'
import { jsonError } from '../report/json.js'
import { npmFlags, policyFlags, recordFlags } from './flags.js'
// command modules load the npm libraries: import them only when run
const runInstallCommand = async (...a: Parameters<typeof import('./install.js').runInstallCommand>) => (await import('./install.js')).runInstallCommand(...a)
const runDiffCommand = async (...a: Parameters<typeof import('./diff.js').runDiffCommand>) => (await import('./diff.js')).runDiffCommand(...a)
const runRebuildCommand = async (...a: Parameters<typeof import('./rebuild.js').runRebuildCommand>) => (await import('./rebuild.js')).runRebuildCommand(...a)

const require = createRequire(import.meta.url)
export const VERSION: string = require('../../package.json').version

export interface Io {
  stdout: (s: string) => void
  stderr: (s: string) => void
  isTTY: boolean
}

const defaultIo: Io = {
  stdout: s => { process.stdout.write(s.endsWith('\n') ? s : s + '\n') },
  stderr: s => { process.stderr.write(s.endsWith('\n') ? s : s + '\n') },
  isTTY: Boolean(process.stderr.isTTY),
}

export async function main (argv: string[], io: Io = defaultIo): Promise<number> {
  let exit: number = EXIT.OK
  const commandArgv = argv
  const run = (command: Command, fn: (a: any) => Promise<number>) => async (a: any) => {
    exit = await guarded(command, a, fn, io)
  }
  const helpAsked = argv.some(a => a === '--help' || a === '-h') || argv.length === 0
  const parser = yargs(argv)
    .scriptName('safe-install')
    .usage('$0 <command> [options]\n\nA hardened npm ci / npm install: every package is verified (integrity, registry signatures, provenance, policy) before anything is written; package scripts never run.')
    .command('ci', 'install exactly the lockfile (like npm ci), verified first', y => recordFlags(policyFlags(npmFlags(y))),
      run('ci', a => runInstallCommand('ci', commandArgv, a, io)))
    .command(['install [specs..]', 'i', 'add'], 'resolve, update package.json and the lockfile (like npm install), verified first', y =>
      recordFlags(policyFlags(npmFlags(y)))
        .positional('specs', { type: 'string', array: true, describe: 'packages to add, as npm takes them' })
        .option('save-dev', { alias: 'D', type: 'boolean', group: 'npm config:', describe: 'save to devDependencies' })
        .option('save-optional', { alias: 'O', type: 'boolean', group: 'npm config:', describe: 'save to optionalDependencies' })
        .option('save-exact', { alias: 'E', type: 'boolean', group: 'npm config:', describe: 'save exact versions' })
        .option('save', { type: 'boolean', group: 'npm config:', describe: 'save to package.json (default true)' }),
    run('install', a => runInstallCommand('install', commandArgv, a, io)))
    .command('verify', 'run every check of ci and write nothing into node_modules; the exit code is the verdict', y => recordFlags(policyFlags(npmFlags(y))),
      run('verify', a => runInstallCommand('verify', commandArgv, a, io)))
    .command('rebuild [packages..]', 'run install scripts of allowed packages only (allowScripts, pnpm allowBuilds/onlyBuiltDependencies, LavaMoat)', y =>
      npmFlags(y).positional('packages', { type: 'string', array: true, describe: 'limit to these package names' })
        .option('dry-run', { type: 'boolean', describe: 'list what would run, run nothing' }),
    run('rebuild', a => runRebuildCommand(commandArgv, a, io)))
    .command('diff <old> <new>', 'compare two install records', y =>
      y.positional('old', { type: 'string', demandOption: true }).positional('new', { type: 'string', demandOption: true })
        .option('json', { type: 'boolean', describe: 'machine-readable output' }),
    run('diff', a => runDiffCommand(a, io)))
    .demandCommand(1, 'name a command: ci, install, verify, rebuild or diff')
    .strictCommands()
    .version(VERSION)
    .alias('v', 'version')
    .alias('h', 'help')
    .epilog(exitCodeEpilog())
    .wrap(helpAsked ? Math.min(110, process.stdout.columns || 100) : null)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new SafeInstallError('ESIUSAGE', msg)
    })
  // yargs renders a command's help text before running it, to have it ready
  // for showHelp() from inside the handler; ours never calls showHelp (usage
  // errors name --help instead), and rendering it took about 30 ms of each run.
  // With --help yargs renders it when asked, as always.
  if (!helpAsked) {
    const usage = (parser as any).getInternalMethods?.().getUsageInstance?.()
    if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {}
  }
  try {
    await parser.parseAsync()
  } catch (err) {
    if (err instanceof SafeInstallError) {
      io.stderr(`error ${err.code}: ${err.message}\nRun \`safe-install --help\` for usage.`)
      return err.exitCode
    }
    io.stderr(`error ESIUSAGE: ${(err as Error).message}`)
    return EXIT.USAGE
  }
  return exit
}

function exitCodeEpilog (): string {
  return 'Exit codes: 0 ok, 1 refused by a check, 2 usage or input, 3 TLS policy, 4 network, 5 busy, 6 write failed (tree restored), 7 advisory/malware. Error codes: see README.'
}

async function guarded (command: Command, args: any, fn: (a: any) => Promise<number>, io: Io): Promise<number> {
  try {
    return await fn(args)
  } catch (err) {
    if (err instanceof SafeInstallError) {
      if (args.json) io.stdout(JSON.stringify(jsonError(err, command), null, 2))
      else if (!args.silent && args.loglevel !== 'silent') io.stderr(formatError(err))
      return err.exitCode
    }
    const e = err as Error
    if (args.json) {
      io.stdout(JSON.stringify({ ok: false, command, exitCode: EXIT.INTERNAL, error: { code: 'ESIINTERNAL', message: e.message } }, null, 2))
    } else {
      io.stderr(`error ESIINTERNAL: ${e.message}\n${ERROR_CODES.ESIINTERNAL.summary}; this is a bug in safe-install, please report it with this trace:\n${e.stack ?? ''}`)
    }
    return EXIT.INTERNAL
  }
}

