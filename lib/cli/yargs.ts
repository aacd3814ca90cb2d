// yargs, from the one-file copy of it that `npm run build` makes with esbuild
// (dist/vendor/yargs/lib/yargs.js), else from node_modules. Loading yargs'
// ESM build file by file took about 120 ms of every run, a third of the
// no-op path; the one file takes about 40 ms less. yargs reads its locale
// files three folders up from itself: the build copies them to
// dist/vendor/locales, so its messages stay translated.
import type YargsFactory from 'yargs'

const BUNDLE = '../vendor/yargs/lib/yargs.js'

async function load (): Promise<typeof YargsFactory> {
  try {
    return (await import(BUNDLE)).default
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    return (await import('yargs')).default
  }
}

const yargs = await load()
export default yargs
